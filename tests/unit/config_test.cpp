#include "common/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

namespace gthulhu::config {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Schema test_schema() {
  Schema s;
  s.add_string("server", "listen", "0.0.0.0:8080", "Address and port of the REST API")
      .add_int("server", "max_connections", 256, 1, 10000, "Most concurrent HTTP connections")
      .add_bool("server", "tls", false, "Serve HTTPS with mutual TLS")
      .add_duration("server", "read_timeout", 5s, "Time allowed to read one request")
      .add_path("storage", "data_dir", "/var/lib/gthulhu", "Where intents persist")
      .add_pem("auth", "public_key", "RSA public key that verifies tokens")
      .add_string("log", "level", "info", "Minimum log level");
  return s;
}

std::vector<std::string> load_errors(const Schema& schema,
                                     const std::optional<std::filesystem::path>& file,
                                     const Environment& env = {}) {
  try {
    Config::load(schema, file, env);
  } catch (const ConfigError& e) {
    return e.errors();
  }
  return {};
}

TEST(Config, DefaultsApplyWithoutFileOrEnvironment) {
  Config c = Config::load(test_schema(), std::nullopt, {});
  EXPECT_EQ(c.get_string("server.listen"), "0.0.0.0:8080");
  EXPECT_EQ(c.get_int("server.max_connections"), 256);
  EXPECT_FALSE(c.get_bool("server.tls"));
  EXPECT_EQ(c.get_duration("server.read_timeout"), 5s);
  EXPECT_EQ(c.get_path("storage.data_dir"), "/var/lib/gthulhu");
  EXPECT_FALSE(c.is_set("auth.public_key"));
  EXPECT_EQ(c.get_pem("auth.public_key"), "");
  EXPECT_EQ(c.source("server.listen"), "default");
  EXPECT_THAT(c.warnings(), IsEmpty());
}

TEST(Config, FileOverridesDefaults) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini",
                        "; comment\n"
                        "# another comment\n"
                        "[server]\n"
                        "listen = 127.0.0.1:9090 ; inline comment\n"
                        "max_connections: 17\n"
                        "tls = yes\n"
                        "\n"
                        "[storage]\n"
                        "data_dir = /srv/gthulhu\n");
  Config c = Config::load(test_schema(), file, {});
  EXPECT_EQ(c.get_string("server.listen"), "127.0.0.1:9090");
  EXPECT_EQ(c.get_int("server.max_connections"), 17);
  EXPECT_TRUE(c.get_bool("server.tls"));
  EXPECT_EQ(c.get_path("storage.data_dir"), "/srv/gthulhu");
  EXPECT_EQ(c.get_string("log.level"), "info");
  EXPECT_EQ(c.source("server.listen"), file.string() + ":4");
  EXPECT_EQ(c.source("log.level"), "default");
}

TEST(Config, EnvironmentOverridesFile) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini", "[server]\nlisten = 127.0.0.1:9090\nread_timeout = 2m\n");
  Environment env = {{"GTHULHU_SERVER_LISTEN", "[::1]:7000"},
                     {"GTHULHU_SERVER_READ_TIMEOUT", " 500ms "},
                     {"GTHULHU_LOG_LEVEL", "debug"},
                     {"UNRELATED", "x"}};
  Config c = Config::load(test_schema(), file, env);
  EXPECT_EQ(c.get_string("server.listen"), "[::1]:7000");
  EXPECT_EQ(c.get_duration("server.read_timeout"), 500ms);
  EXPECT_EQ(c.get_string("log.level"), "debug");
  EXPECT_EQ(c.source("server.listen"), "environment variable GTHULHU_SERVER_LISTEN");
}

TEST(Config, EnvironmentVariableNames) {
  Schema plain;
  plain.add_string("server", "listen", "", "x").add_string("tls", "client-ca_path", "", "y");
  EXPECT_EQ(plain.env_var(plain.keys()[0]), "GTHULHU_SERVER_LISTEN");
  EXPECT_EQ(plain.env_var(plain.keys()[1]), "GTHULHU_TLS_CLIENT_CA_PATH");
  EXPECT_THROW(plain.add_string("tls", "client.ca", "", "dots separate section and key"),
               std::logic_error);
  Schema agent("GTHULHU_AGENT");
  agent.add_string("tls", "client-ca", "", "y").add_string("", "node", "", "z");
  EXPECT_EQ(agent.env_var(agent.keys()[0]), "GTHULHU_AGENT_TLS_CLIENT_CA");
  EXPECT_EQ(agent.env_var(agent.keys()[1]), "GTHULHU_AGENT_NODE");
}

TEST(Config, UnknownEnvironmentVariableWithOurPrefixIsAWarning) {
  Config c = Config::load(test_schema(), std::nullopt, {{"GTHULHU_SERVER_LISTN", "x"}});
  EXPECT_THAT(c.warnings(), ElementsAre(HasSubstr("GTHULHU_SERVER_LISTN")));
}

TEST(Config, UnknownKeyIsAnErrorNamingFileAndLine) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini", "[server]\nlisten = :80\nlistn = :81\n[servr]\ntls = on\n");
  EXPECT_THAT(load_errors(test_schema(), file),
              ElementsAre(file.string() +
                              ":3: unknown key 'listn' in section [server] (did you mean "
                              "server.listen?)",
                          file.string() +
                              ":5: unknown section [servr] (key 'tls') (did you mean "
                              "server.tls?)"));
}

TEST(Config, KeysOutsideAnySectionAreUnknown) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini", "listen = :80\n");
  EXPECT_THAT(load_errors(test_schema(), file),
              ElementsAre(HasSubstr(":1: unknown key 'listen' outside any [section]")));
}

TEST(Config, BadIntegerNamesKeyValueAndExpectation) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini", "[server]\nmax_connections = lots\n");
  EXPECT_THAT(load_errors(test_schema(), file),
              ElementsAre(file.string() +
                          ":2: server.max_connections = \"lots\": expected an integer from 1 "
                          "to 10000"));
}

TEST(Config, OutOfRangeIntegers) {
  for (const char* value : {"0", "10001", "-5", "99999999999999999999"}) {
    auto errors = load_errors(test_schema(), std::nullopt,
                              {{"GTHULHU_SERVER_MAX_CONNECTIONS", value}});
    ASSERT_EQ(errors.size(), 1u) << value;
    EXPECT_THAT(errors[0], AllOf(HasSubstr("environment variable GTHULHU_SERVER_MAX_CONNECTIONS"),
                                 HasSubstr(std::string("\"") + value + "\""),
                                 HasSubstr("from 1 to 10000")));
  }
  Config c =
      Config::load(test_schema(), std::nullopt, {{"GTHULHU_SERVER_MAX_CONNECTIONS", "10000"}});
  EXPECT_EQ(c.get_int("server.max_connections"), 10000);
}

TEST(Config, BoolForms) {
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, bool>>{{"true", true}, {"Yes", true}, {"on", true},
                                                 {"1", true}, {"false", false}, {"NO", false},
                                                 {"off", false}, {"0", false}}) {
    Config c = Config::load(test_schema(), std::nullopt, {{"GTHULHU_SERVER_TLS", text}});
    EXPECT_EQ(c.get_bool("server.tls"), expected) << text;
  }
  EXPECT_THAT(load_errors(test_schema(), std::nullopt, {{"GTHULHU_SERVER_TLS", "maybe"}}),
              ElementsAre(HasSubstr("server.tls = \"maybe\": expected true/false, yes/no")));
  EXPECT_THAT(load_errors(test_schema(), std::nullopt, {{"GTHULHU_SERVER_TLS", ""}}),
              ElementsAre(HasSubstr("server.tls = \"\"")));
}

TEST(Config, DurationForms) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::chrono::nanoseconds>>{
           {"500ms", 500ms}, {"5s", 5s}, {"2m", 2min}, {"1h30m", 90min}, {"0", 0s}}) {
    Config c = Config::load(test_schema(), std::nullopt, {{"GTHULHU_SERVER_READ_TIMEOUT", text}});
    EXPECT_EQ(c.get_duration("server.read_timeout"), expected) << text;
  }
  EXPECT_THAT(load_errors(test_schema(), std::nullopt, {{"GTHULHU_SERVER_READ_TIMEOUT", "5"}}),
              ElementsAre(HasSubstr("server.read_timeout = \"5\": expected a duration")));
}

TEST(Config, CollectsEveryErrorBeforeFailing) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini",
                        "[server]\n"
                        "tls = sometimes\n"
                        "bogus = 1\n"
                        "this line is not ini\n"
                        "listen = :1\n"
                        "listen = :2\n"
                        "[broken\n");
  try {
    Config::load(test_schema(), file, {{"GTHULHU_SERVER_READ_TIMEOUT", "soon"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    std::string f = file.string();
    EXPECT_THAT(e.errors(),
                ::testing::UnorderedElementsAre(
                    HasSubstr(f + ":4: cannot parse line"), HasSubstr(f + ":7: cannot parse line"),
                    HasSubstr(f + ":3: unknown key 'bogus'"),
                    f + ":6: server.listen is already set on line 5",
                    f + ":2: server.tls = \"sometimes\": expected true/false, yes/no, on/off "
                        "or 1/0",
                    HasSubstr("environment variable GTHULHU_SERVER_READ_TIMEOUT: "
                              "server.read_timeout = \"soon\"")));
    EXPECT_THAT(e.what(), HasSubstr("invalid configuration (6 problems):"));
  }
}

TEST(Config, MissingFileIsAnError) {
  EXPECT_THAT(load_errors(test_schema(), std::filesystem::path("/nonexistent/gthulhu.ini")),
              ElementsAre("config file /nonexistent/gthulhu.ini: No such file or directory"));
  test::TempDir dir;
  EXPECT_THAT(load_errors(test_schema(), dir.path()), ElementsAre(HasSubstr("is a directory")));
}

TEST(Config, OverlongLineIsAnErrorNotTwoLines) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini",
                        "[log]\nlevel = " + std::string(300, 'x') + "\n[server]\nlisten = :1\n");
  auto errors = load_errors(test_schema(), file);
  EXPECT_THAT(errors, ElementsAre(HasSubstr(file.string() + ":2: line is longer than")));
}

TEST(Config, IndentedLinesContinueOnlyPemValues) {
  test::TempDir dir;
  auto file = dir.write("gthulhu.ini", "[server]\nlisten = :80\n  tls = on\n");
  EXPECT_THAT(load_errors(test_schema(), file),
              ElementsAre(HasSubstr(":3: indented line continues the value of server.listen")));
}

TEST(Config, PemInlineInTheFile) {
  const std::string& pem = test::rsa_key_pair().public_key_pem;
  std::string indented;
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    indented += (start == 0 ? "" : "    ") + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  test::TempDir dir;
  auto file =
      dir.write("gthulhu.ini", "[auth]\npublic_key = " + indented + "[log]\nlevel = warn\n");
  Config c = Config::load(test_schema(), file, {});
  EXPECT_EQ(c.get_pem("auth.public_key"), pem);
  EXPECT_EQ(c.get_string("log.level"), "warn");

  auto below = dir.write("below.ini", "[auth]\npublic_key =\n    " + indented);
  EXPECT_EQ(Config::load(test_schema(), below, {}).get_pem("auth.public_key"), pem);
}

TEST(Config, PemInlineInTheEnvironment) {
  const std::string& pem = test::rsa_key_pair().public_key_pem;
  Config real = Config::load(test_schema(), std::nullopt, {{"GTHULHU_AUTH_PUBLIC_KEY", pem}});
  EXPECT_EQ(real.get_pem("auth.public_key"), pem);
  EXPECT_TRUE(real.is_set("auth.public_key"));

  std::string escaped;
  for (char ch : pem) escaped += ch == '\n' ? std::string("\\n") : std::string(1, ch);
  Config esc = Config::load(test_schema(), std::nullopt, {{"GTHULHU_AUTH_PUBLIC_KEY", escaped}});
  EXPECT_EQ(esc.get_pem("auth.public_key"), pem);

  EXPECT_THAT(load_errors(test_schema(), std::nullopt,
                          {{"GTHULHU_AUTH_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nAAAA"}}),
              ElementsAre(HasSubstr("auth.public_key: inline PEM has no -----END line")));
}

TEST(Config, PemFromAFile) {
  const std::string& pem = test::rsa_key_pair().public_key_pem;
  test::TempDir dir;
  auto key_file = dir.write("jwt.pub", pem);
  auto ini = dir.write("gthulhu.ini", "[auth]\npublic_key = " + key_file.string() + "\n");
  Config from_file = Config::load(test_schema(), ini, {});
  EXPECT_EQ(from_file.get_pem("auth.public_key"), pem);

  Config from_env = Config::load(test_schema(), std::nullopt,
                                 {{"GTHULHU_AUTH_PUBLIC_KEY", key_file.string()}});
  EXPECT_EQ(from_env.get_pem("auth.public_key"), pem);
}

TEST(Config, PemFileErrorsNameKeyAndFile) {
  test::TempDir dir;
  auto not_pem = dir.write("notes.txt", "hello\n");
  std::string absent = (dir.path() / "absent.pem").string();
  auto ini = dir.write("gthulhu.ini", "[auth]\npublic_key = " + absent + "\n");
  EXPECT_THAT(load_errors(test_schema(), ini),
              ElementsAre(AllOf(HasSubstr(ini.string() +
                                          ":2: auth.public_key: cannot read PEM file"),
                                HasSubstr("absent.pem: No such file or directory"))));
  EXPECT_THAT(load_errors(test_schema(), std::nullopt,
                          {{"GTHULHU_AUTH_PUBLIC_KEY", not_pem.string()}}),
              ElementsAre("environment variable GTHULHU_AUTH_PUBLIC_KEY: auth.public_key: file " +
                          not_pem.string() + " holds no PEM data (no -----BEGIN line)"));
}

TEST(Config, AccessorMisuseIsAProgrammingError) {
  Config c = Config::load(test_schema(), std::nullopt, {});
  EXPECT_THROW(c.get_string("server.nope"), std::logic_error);
  EXPECT_THROW(c.get_int("server.listen"), std::logic_error);
  EXPECT_THROW(c.source("nope"), std::logic_error);
}

TEST(Config, SchemaRefusesBadDeclarations) {
  Schema s;
  s.add_string("server", "listen", "", "x");
  EXPECT_THROW(s.add_string("server", "listen", "", "again"), std::logic_error);
  s.add_string("tls", "ca-file", "", "x");
  EXPECT_THROW(s.add_string("tls", "ca_file", "", "same variable"), std::logic_error);
  EXPECT_THROW(s.add_int("server", "port", 0, 1, 10, "default below min"), std::logic_error);
  EXPECT_THROW(s.add_string("Server", "x", "", "upper case"), std::logic_error);
  EXPECT_THROW(s.add_string("server", "", "", "empty name"), std::logic_error);
  EXPECT_THROW(s.add_string("server", "y", "", ""), std::logic_error);
}

TEST(Config, DocumentationListsEveryKey) {
  Schema schema = test_schema();
  std::string doc = render_markdown(schema);
  EXPECT_THAT(doc, HasSubstr("| Key | Environment variable | Type | Default | Description |"));
  for (const KeySpec& key : schema.keys()) {
    EXPECT_THAT(doc, AllOf(HasSubstr("`" + key.id() + "`"),
                           HasSubstr("`" + schema.env_var(key) + "`"),
                           HasSubstr(key.description)));
  }
  EXPECT_THAT(doc, HasSubstr("| `server.max_connections` | `GTHULHU_SERVER_MAX_CONNECTIONS` | "
                             "int (1..10000) | `256` | Most concurrent HTTP connections |"));
  EXPECT_THAT(doc, HasSubstr("| `server.read_timeout` | `GTHULHU_SERVER_READ_TIMEOUT` | duration | "
                             "`5s` |"));
  EXPECT_THAT(doc, HasSubstr("| `auth.public_key` | `GTHULHU_AUTH_PUBLIC_KEY` | PEM | (unset) |"));
}

}  // namespace
}  // namespace gthulhu::config
