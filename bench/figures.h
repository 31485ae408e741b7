#pragma once
// One figure of `make bench`'s report. Each benchmark prints its own lines and also
// appends every figure, as one JSON object per line, to the file named by
// $GTHULHU_BENCH_FIGURES (scripts/bench.sh sets it and merges the lines into the one
// report, printed and written as build/bench/report.json). A figure names the
// baseline it is compared with, measured in the same run.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace gthulhu::bench {

struct Figure {
  std::string section;   // "agent scale", "auth", ...
  std::string name;      // what was measured
  double value = 0;
  std::string unit;      // "ms", "per s", ...
  std::string baseline_name;   // empty: no baseline
  double baseline = NAN;
  bool higher_is_better = false;
};

inline void record(const Figure& f) {
  const char* path = std::getenv("GTHULHU_BENCH_FIGURES");
  if (path == nullptr || *path == '\0') return;
  nlohmann::json j = {{"section", f.section}, {"name", f.name}, {"value", f.value},
                      {"unit", f.unit}, {"higherIsBetter", f.higher_is_better}};
  if (!f.baseline_name.empty() && !std::isnan(f.baseline)) {
    j["baseline"] = {{"name", f.baseline_name}, {"value", f.baseline}};
    if (f.baseline != 0) j["ratio"] = f.value / f.baseline;
  }
  std::ofstream(path, std::ios::app) << j.dump() << "\n";
}

}  // namespace gthulhu::bench
