#include "tests/support/fhir_peer.hpp"

#include <csignal>
#include <stdexcept>

#include "sync/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace carehub::test {
namespace {

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base64(const std::string& in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i + 1 == in.size()) {
    const auto n = static_cast<unsigned char>(in[i]) << 16;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

sync::HttpResponse send(const sync::HttpRequest& req) {
  auto client = sync::make_curl_client({});
  auto resp = client->send(req);
  if (!resp) throw std::runtime_error(req.method + " " + req.url + ": " + resp.error().message);
  return std::move(resp).value();
}

}  // namespace

std::string basic_authorization(const std::string& client_id, const std::string& client_secret) {
  // Percent-encoding all but unreserved characters is a valid form encoding.
  return "Basic " + base64(url_encode(client_id) + ":" + url_encode(client_secret));
}

FhirPeer::FhirPeer(const std::string& log_file, int port) {
  FhirPeerOptions options;
  options.port = port;
  start(log_file, options);
}

FhirPeer::FhirPeer(const std::string& log_file, const FhirPeerOptions& options) { start(log_file, options); }

void FhirPeer::start(const std::string& log_file, const FhirPeerOptions& options) {
  options_ = options;
  const auto dir = source_dir() / "tests" / "peers" / "fhir";
  if (!std::filesystem::exists(dir / "node_modules")) {
    throw std::runtime_error("tests/peers/fhir/node_modules is missing: run scripts/install-deps.sh");
  }
  std::vector<std::string> argv{"/usr/bin/env", "node", "--experimental-websocket", (dir / "server.mjs").string(),
                                "--port", std::to_string(options.port), "--quiet"};
  if (!options.client_id.empty() || !options.client_secret.empty()) {
    argv.insert(argv.end(), {"--auth", options.client_id + ":" + options.client_secret, "--token-ttl",
                             std::to_string(options.token_ttl_s)});
  }
  if (options.no_gzip) argv.emplace_back("--no-gzip");
  if (options.refuse_numeric_ids) argv.emplace_back("--refuse-numeric-ids");
  if (options.hl7_invariants) argv.emplace_back("--hl7-invariants");
  if (!options.check_references) argv.emplace_back("--no-check-references");
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{}, log_file);
  // Loading the R4 definitions takes a few seconds on these machines.
  for (;;) {
    auto line = process_->read_line(std::chrono::seconds(60));
    if (!line) throw std::runtime_error("FHIR peer did not start; its log:\n" + read_file(log_file));
    if (line->rfind("LISTENING ", 0) == 0) {
      port_ = std::stoi(line->substr(10));
      break;
    }
  }
}

FhirPeer::~FhirPeer() { stop(); }

void FhirPeer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

std::string FhirPeer::origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
std::string FhirPeer::base_url() const { return origin() + "/fhir/R4"; }
std::string FhirPeer::token_url() const { return origin() + "/oauth2/token"; }

std::string FhirPeer::fetch_token() {
  sync::HttpRequest req{"POST", token_url(),
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Authorization", basic_authorization(options_.client_id, options_.client_secret)}},
                        "grant_type=client_credentials"};
  auto resp = send(req);
  if (resp.status != 200) {
    throw std::runtime_error("POST " + token_url() + ": HTTP " + std::to_string(resp.status) + " " + resp.body);
  }
  return nlohmann::json::parse(resp.body).at("access_token").get<std::string>();
}

nlohmann::json FhirPeer::fhir(const std::string& method, const std::string& url, const std::string& body) {
  const bool auth = !options_.client_id.empty();
  for (int attempt = 0;; ++attempt) {
    sync::HttpRequest req{method, url, {{"Accept", "application/fhir+json"}, {"Content-Type", "application/fhir+json"}}, body};
    if (auth) {
      if (!token_) token_ = fetch_token();
      req.headers.emplace_back("Authorization", "Bearer " + *token_);
    }
    auto resp = send(req);
    // Only a token that ran out of lifetime is replaced; a rotation the test asked for also dropped token_.
    if (auth && resp.status == 401 && attempt == 0) {
      token_.reset();
      continue;
    }
    if (resp.status >= 300) {
      throw std::runtime_error(method + " " + url + ": HTTP " + std::to_string(resp.status) + " " + resp.body);
    }
    return nlohmann::json::parse(resp.body);
  }
}

nlohmann::json FhirPeer::control(const std::string& method, const std::string& path, const nlohmann::json& body) {
  auto resp = send({method, origin() + path, {{"Content-Type", "application/json"}}, body.is_null() ? "" : body.dump()});
  if (resp.status != 200) {
    throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(resp.status) + " " + resp.body);
  }
  return nlohmann::json::parse(resp.body);
}

nlohmann::json FhirPeer::get(const std::string& path_and_query) { return fhir("GET", base_url() + "/" + path_and_query); }

void FhirPeer::put(const std::string& path, const nlohmann::json& resource) {
  fhir("PUT", base_url() + "/" + path, resource.dump());
}

std::size_t FhirPeer::count_by_identifier(const std::string& type, const std::string& system, const std::string& value) {
  auto bundle = get(type + "?identifier=" + url_encode(system + "|" + value) + "&_count=1000");
  return bundle.contains("entry") ? bundle["entry"].size() : 0;
}

std::size_t FhirPeer::count(const std::string& type) {
  auto bundle = get(type + "?_count=1000&_total=accurate");
  if (bundle.contains("total")) return bundle["total"].get<std::size_t>();
  return bundle.contains("entry") ? bundle["entry"].size() : 0;
}

int FhirPeer::expire_tokens() {
  token_.reset();
  return control("POST", "/__control/expire-tokens")["expired"].get<int>();
}

void FhirPeer::advance_token_clock(double seconds) {
  control("POST", "/__control/advance-clock", {{"seconds", seconds}});
}

void FhirPeer::reject(const std::string& identifier, int status) {
  control("POST", "/__control/reject", {{"identifier", identifier}, {"status", status}});
}

void FhirPeer::lose_answers(const std::string& resource_type, int count, const nlohmann::json& where) {
  control("POST", "/__control/lose-answers", {{"resourceType", resource_type}, {"count", count}, {"where", where}});
}

void FhirPeer::clear_rejections() { control("POST", "/__control/reject", {{"clear", true}}); }
nlohmann::json FhirPeer::stats() { return control("GET", "/__control/stats"); }
void FhirPeer::reset() { control("POST", "/__control/reset"); }

}  // namespace carehub::test
