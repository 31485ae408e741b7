#pragma once
// Building blocks for collectors that read their values at scrape time (from BPF maps,
// from the dispatcher's node channels): a family and one sample in it.
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace gthulhu::metrics {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type);

// One sample: a counter's or a gauge's value, by the family's type.
void add_value(prometheus::MetricFamily& f, double v,
               std::vector<prometheus::ClientMetric::Label> labels = {});

}  // namespace gthulhu::metrics
