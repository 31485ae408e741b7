// gthulhu-wakeup-probe: the latency-sensitive workload of the end-to-end tier and the
// demo. It sleeps INTERVAL_US to an absolute deadline, again and again, and measures how
// late it runs after each wakeup (timer expiry to running on a CPU, the latency a
// scheduler controls); every WINDOW_S seconds it appends one JSON line to OUT:
//   {"window":N,"samples":S,"p50_us":..,"p99_us":..,"max_us":..,"cpu_ms":..}
// cpu_ms is the CPU time the probe used in that window (getrusage). Percentiles of many
// samples per window are what survive TCG's noise; callers compare whole windows.
//   gthulhu-wakeup-probe OUT [INTERVAL_US=2000] [WINDOW_S=5]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int cmp_u64(const void* a, const void* b) {
  unsigned long long x = *(const unsigned long long*)a, y = *(const unsigned long long*)b;
  return x < y ? -1 : x > y;
}

static long long ns_of(const struct timespec* t) { return (long long)t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return ((long long)u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000LL +
         ((long long)u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000LL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OUT [INTERVAL_US] [WINDOW_S]\n", argv[0]);
    return 2;
  }
  const long interval_us = argc > 2 ? atol(argv[2]) : 2000;
  const long window_s = argc > 3 ? atol(argv[3]) : 5;
  if (interval_us < 100 || interval_us > 1000000 || window_s < 1 || window_s > 600) {
    fprintf(stderr, "%s: INTERVAL_US must be 100..1000000 and WINDOW_S 1..600\n", argv[0]);
    return 2;
  }
  const size_t cap = (size_t)(window_s * 1000000 / interval_us) + 16;
  unsigned long long* lat = malloc(cap * sizeof *lat);
  if (!lat) return 1;
  for (long window = 0;; ++window) {
    struct timespec now, next;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long long end = ns_of(&now) + window_s * 1000000000LL;
    const long long cpu0 = cpu_ns();
    size_t n = 0;
    next = now;
    while (ns_of(&now) < end && n < cap) {
      long long t = ns_of(&next) + interval_us * 1000LL;
      next.tv_sec = t / 1000000000LL;
      next.tv_nsec = t % 1000000000LL;
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long late = ns_of(&now) - t;
      lat[n++] = late > 0 ? (unsigned long long)late : 0;
      if (late > interval_us * 1000LL) next = now;  // a long stall: do not try to catch up
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    FILE* f = fopen(argv[1], "a");
    if (!f) {
      perror(argv[1]);
      return 1;
    }
    fprintf(f, "{\"window\":%ld,\"samples\":%zu,\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,\"cpu_ms\":%lld}\n",
            window, n, n ? lat[n / 2] / 1000 : 0, n ? lat[(n * 99) / 100] / 1000 : 0, n ? lat[n - 1] / 1000 : 0,
            (cpu_ns() - cpu0) / 1000000);
    fclose(f);
  }
}
