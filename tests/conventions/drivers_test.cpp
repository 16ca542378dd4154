// Every driver folder has the shape docs/adding-a-driver.md promises, so a reviewer need not check it:
// README.md with a sample configuration that passes the configuration check, config.hpp with the option
// table (kOptions) whose every option the README documents, source.hpp with make_<name>_source, and its
// unit tests in tests/unit/drivers/<name>/. And carehubd lists exactly the drivers that are there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_check.hpp"
#include "daemon/sources.hpp"
#include "drivers/ble/config.hpp"
#include "drivers/mqtt/config.hpp"
#include "drivers/openhab/config.hpp"
#include "drivers/option_table.hpp"
#include "drivers/sim/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = CAREHUB_SOURCE_DIR;

// Folders under drivers/ that are no source, and why the shape does not apply to them.
const std::map<std::string, std::string> kNotSources{
    {"gatt", "the BLE driver's pure GATT decoders (a parser library: no configuration, no Source)"},
};

// Each source driver's option table. A new driver adds its line here (the test below fails until then).
const std::map<std::string, std::span<const ConfigOption>> kTables{
    {"ble", ble::kOptions},
    {"mqtt", mqtt::kOptions},
    {"openhab", openhab::kOptions},
    {"sim", sim::kOptions},
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> driver_folders(const fs::path& drivers) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(drivers)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The code block that follows the README's "## Sample configuration" heading (```json or ```jsonc).
std::optional<std::string> sample_block(const std::string& readme) {
  const auto heading = readme.find("\n## Sample configuration");
  if (heading == std::string::npos) return std::nullopt;
  const auto fence = readme.find("\n```json", heading);
  const auto next_heading = readme.find("\n## ", heading + 1);
  if (fence == std::string::npos || (next_heading != std::string::npos && fence > next_heading)) return std::nullopt;
  const auto body = readme.find('\n', fence + 1);
  const auto end = readme.find("\n```", body);
  if (body == std::string::npos || end == std::string::npos) return std::nullopt;
  return readme.substr(body + 1, end - body - 1);
}

// What is missing from `root`'s source driver `name`, one line each; empty when it has the shape.
std::vector<std::string> shape_problems(const fs::path& root, const std::string& name) {
  std::vector<std::string> out;
  const auto dir = root / "drivers" / name;
  const auto where = "drivers/" + name + "/";
  for (const char* file : {"README.md", "config.hpp", "source.hpp", "CMakeLists.txt"}) {
    if (!fs::is_regular_file(dir / file)) out.push_back(where + file + " is missing");
  }
  if (fs::is_regular_file(dir / "README.md") && !sample_block(read(dir / "README.md"))) {
    out.push_back(where + "README.md has no \"## Sample configuration\" heading followed by a ```json block");
  }
  if (fs::is_regular_file(dir / "config.hpp") && read(dir / "config.hpp").find("kOptions") == std::string::npos) {
    out.push_back(where + "config.hpp declares no option table kOptions (drivers/option_table.hpp)");
  }
  const auto factory = "make_" + name + "_source(";
  if (fs::is_regular_file(dir / "source.hpp") && read(dir / "source.hpp").find(factory) == std::string::npos) {
    out.push_back(where + "source.hpp does not declare " + factory + ")");
  }
  if (!fs::is_regular_file(root / "tests/unit/drivers" / name / "CMakeLists.txt")) {
    out.push_back("tests/unit/drivers/" + name + "/ (with its CMakeLists.txt) is missing");
  }
  return out;
}

std::vector<std::string> source_drivers() {
  std::vector<std::string> out;
  for (const auto& name : driver_folders(kRoot / "drivers")) {
    if (!kNotSources.contains(name)) out.push_back(name);
  }
  return out;
}

TEST(EveryDriverFolder, HasReadmeSampleConfigOptionTableSourceFactoryAndUnitTests) {
  const auto drivers = source_drivers();
  ASSERT_GE(drivers.size(), 4u) << "drivers/ not found under " << kRoot;
  for (const auto& name : drivers) {
    EXPECT_THAT(shape_problems(kRoot, name), ::testing::IsEmpty()) << name;
  }
  for (const auto& [name, why] : kNotSources) {
    EXPECT_TRUE(fs::is_regular_file(kRoot / "drivers" / name / "README.md")) << name << ": " << why;
  }
}

TEST(EveryDriverFolder, IsListedByCarehubdAndHasItsOptionTableHere) {
  std::set<std::string> built_in;
  for (const auto& s : daemon::builtin_sources()) built_in.emplace(s.name);
  const auto drivers = source_drivers();
  EXPECT_EQ(built_in, std::set<std::string>(drivers.begin(), drivers.end()))
      << "daemon/sources.cpp's kSources and the folders under drivers/ differ";
  std::set<std::string> tables;
  for (const auto& [name, table] : kTables) tables.insert(name);
  EXPECT_EQ(tables, std::set<std::string>(drivers.begin(), drivers.end()))
      << "add the new driver's kOptions to kTables in this test";
}

TEST(EveryReadmeSample, PassesTheConfigurationCheck) {
  for (const auto& name : source_drivers()) {
    const auto readme = kRoot / "drivers" / name / "README.md";
    const auto block = sample_block(read(readme));
    ASSERT_TRUE(block) << readme;
    // The sample is the `"sources": {...}` member of carehubd.json (comments allowed, as there).
    auto doc = parse_json_document("{" + *block + "}", readme.string());
    ASSERT_TRUE(doc) << doc.error().message;
    ASSERT_TRUE(doc->contains("sources") && (*doc)["sources"].contains(name)) << readme << ": no /sources/" << name;
    std::map<std::string, nlohmann::json> sections{{name, (*doc)["sources"][name]}};
    EXPECT_THAT(daemon::check_sources(sections), ::testing::IsEmpty()) << readme;
  }
}

TEST(EveryOptionTable, IsDocumentedInItsDriversReadme) {
  for (const auto& [name, table] : kTables) {
    const auto readme = read(kRoot / "drivers" / name / "README.md");
    for (const auto& option : table) {
      const std::regex word("(^|[^A-Za-z0-9_])" + std::string(option_key(option)) + "([^A-Za-z0-9_]|$)");
      EXPECT_TRUE(std::regex_search(readme, word)) << "drivers/" << name << "/README.md does not mention "
                                                   << option.pointer << " (" << option.doc << ")";
      EXPECT_FALSE(option.doc.empty()) << name << option.pointer;
    }
  }
}

// The checks above can fail: a folder without the shape, and a sample the configuration check refuses.
TEST(TheConventionsCheck, FindsAFolderWithoutTheShapeAndASampleWithAnUnknownKey) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "drivers/half");
  std::ofstream(dir.path() / "drivers/half/README.md") << "# half\n\nNo sample here.\n";
  std::ofstream(dir.path() / "drivers/half/source.hpp") << "make_source(\n";
  const auto problems = shape_problems(dir.path(), "half");
  EXPECT_THAT(problems, ::testing::UnorderedElementsAre(
                            "drivers/half/config.hpp is missing", "drivers/half/CMakeLists.txt is missing",
                            "drivers/half/README.md has no \"## Sample configuration\" heading followed by a ```json block",
                            "drivers/half/source.hpp does not declare make_half_source()",
                            "tests/unit/drivers/half/ (with its CMakeLists.txt) is missing"));

  const std::map<std::string, nlohmann::json> bad{
      {"sim", {{"readings", {{{"kind", "spo2"}, {"values", {{"value", 97}}}}}}, {"intervall_s", 5}}}};
  EXPECT_THAT(daemon::check_sources(bad),
              ::testing::ElementsAre(::testing::HasSubstr("/sources/sim/intervall_s: unknown key")));
}

}  // namespace
}  // namespace carehub
