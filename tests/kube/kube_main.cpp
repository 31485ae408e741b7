// gtest's main, except that a run in which every test skipped (no API server binaries)
// exits with 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE): a run with any
// failure still fails, and one with passes still passes.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  const auto* run = testing::UnitTest::GetInstance();
  if (rc == 0 && run->successful_test_count() == 0 && run->skipped_test_count() > 0) return 77;
  return rc;
}
