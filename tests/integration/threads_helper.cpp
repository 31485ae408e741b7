// A multi-threaded process for the agent tests: starts N threads that sleep, prints
// nothing, and exits after the given seconds (bounded, so nothing outlives a test).
// Copied under another name, its comm is that name.
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 3;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 60;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([seconds] { std::this_thread::sleep_for(std::chrono::seconds(seconds)); });
  }
  for (auto& t : pool) t.join();
  return 0;
}
