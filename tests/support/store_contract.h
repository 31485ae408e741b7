#pragma once
// The storage contract: one GoogleTest suite every coordinator Store backend must pass.
// A backend's test file instantiates it with a factory that returns a fresh, EMPTY
// store (its schema not yet migrated: the fixture calls migrate()):
//
//   #include "tests/support/store_contract.h"
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, StoreContractTest,
//       ::testing::Values(gthulhu::test::store_contract_param("sqlite", [] { ... })),
//       gthulhu::test::StoreContractName());
//
// The factory may return nullptr after calling GTEST_SKIP()-worthy checks itself;
// the fixture then skips the test with `skip_reason` (e.g. "FerretDB not installed").
// Return a std::shared_ptr with a custom deleter when a store needs cleanup (dropping
// a per-test database, say).
#include <gtest/gtest.h>

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "coordinator/store/store.h"

namespace gthulhu::test {

using StoreFactory = std::function<std::shared_ptr<coordinator::Store>()>;

struct StoreContractParam {
  std::string name;           // test-name suffix: letters, digits, '_'
  StoreFactory factory;
  std::string skip_reason;    // used when the factory returns nullptr
};

// gtest prints the parameter by name instead of a byte dump.
void PrintTo(const StoreContractParam& param, std::ostream* os);

// Builds the parameter. Defined in store_contract.cpp: calling it also guarantees
// the suite's object file (and so its TEST_Ps) is linked into the test binary.
StoreContractParam store_contract_param(std::string name, StoreFactory factory,
                                        std::string skip_reason = "store unavailable");

struct StoreContractName {
  std::string operator()(const ::testing::TestParamInfo<StoreContractParam>& info) const {
    return info.param.name;
  }
};

class StoreContractTest : public ::testing::TestWithParam<StoreContractParam> {
 protected:
  void SetUp() override;
  void TearDown() override;
  coordinator::Store& store() { return *store_; }

  std::shared_ptr<coordinator::Store> store_;
};

}  // namespace gthulhu::test

// Test bodies use the fixture unqualified.
using gthulhu::test::StoreContractTest;
