// The store's own limit for what one uncached GET /api/v1/strategies/self asks of it:
// the caller's user record, then that user's strategy list (store layer alone, no HTTP,
// no JSON rendering, no cache), from N threads for S seconds. scripts/bench-coordinator.sh
// runs it against the database the coordinator under test uses, in the same run, so the
// coordinator's figure can be read against what the store itself allows.
//
//   store_query_bench (--sqlite PATH | --mongodb URI DATABASE) --user USERNAME
//                     [--threads 2] [--seconds 4]
// Prints one line: "<queries>/s p50 <ms> p99 <ms> (<n> requests' worth, <strategies> rows)".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "coordinator/store/mongo_store.h"
#include "coordinator/store/sqlite_store.h"

using namespace gthulhu::coordinator;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "store_query_bench: %s\nusage: store_query_bench (--sqlite PATH | --mongodb URI DATABASE) "
                       "--user USERNAME [--threads N] [--seconds S]\n", why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // one result line on stdout, nothing else
  std::shared_ptr<Store> store;
  std::string username;
  int threads = 2;
  double seconds = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--sqlite") {
      SqliteOptions o;
      o.path = next();
      o.pool_size = 4;
      store = std::make_shared<SqliteStore>(o);
    } else if (a == "--mongodb") {
      MongoOptions o;
      o.uri = next();
      o.database = next();
      store = std::make_shared<MongoStore>(o);
    } else if (a == "--user") {
      username = next();
    } else if (a == "--threads") {
      threads = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--seconds") {
      seconds = std::max(0.5, std::atof(next().c_str()));
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (!store) usage("no store given");
  if (username.empty()) usage("no --user given");
  if (auto st = store->migrate(); !st.ok()) usage(("store: " + st.error().message).c_str());
  auto user = store->get_user_by_username(username);
  if (!user.ok()) usage(("user: " + user.error().message).c_str());
  const std::string id = user->id;
  const std::size_t rows = store->list_strategies({id}).value().size();

  std::atomic<bool> stop{false};
  std::atomic<long> failures{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  const auto began = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<std::size_t>(t)];
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        auto u = store->get_user(id);
        auto list = store->list_strategies({id});
        if (!u.ok() || !list.ok() || list->size() != rows) failures.fetch_add(1);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - began).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  if (all.empty()) usage("no request finished");
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  std::printf("%.0f/s p50 %.3f p99 %.3f (%zu requests' worth, %zu rows each, %ld failures, %d threads)\n",
              static_cast<double>(all.size()) / elapsed, pct(0.50), pct(0.99), all.size(), rows,
              failures.load(), threads);
  return failures.load() == 0 ? 0 : 1;
}
