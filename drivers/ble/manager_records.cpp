// The Manager's record path: a characteristic value becomes Readings (decode, user slot, the resend
// guard's evidence, ingest), and the conversations that bring records: Record Access Control Point and the
// User Data Service control point. Split from manager.cpp (adapter and sessions); same class, same thread.
#include <algorithm>
#include <cstdio>

#include "drivers/ble/convert.hpp"
#include "drivers/ble/manager.hpp"
#include "drivers/ble/record_guard.hpp"
#include "drivers/gatt/decode.hpp"
#include "drivers/gatt/user_data.hpp"

namespace carehub::ble {
namespace {

constexpr std::string_view kLog = "ble";
// Enough for a whole memory resent twice in one session (BP monitors keep 60-200 records per user).
constexpr std::size_t kRecentRecords = 512;

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  char buf[3];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(b));
    out += buf;
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

void Manager::request_records(DeviceSession& d) {
  d.records_after_uds = false;
  if (d.racp_path.empty()) return;
  // "Report stored records": with a sequence filter (glucose) only those newer than the newest
  // stored, else all of them and the resend guard drops what is already stored.
  std::vector<std::uint8_t> request{0x01, 0x01};
  d.racp = DeviceSession::Racp::all;
  if (d.glucose && d.device.newest_sequence) {
    const auto from = static_cast<std::uint16_t>(*d.device.newest_sequence + 1);
    request = {0x01, 0x03, 0x01, static_cast<std::uint8_t>(from & 0xFF), static_cast<std::uint8_t>(from >> 8)};
    d.racp = DeviceSession::Racp::after_newest;
  }
  d.numbering_went_back = false;
  if (auto r = bluez_.write_value(d.racp_path, request); !r) {
    d.racp = DeviceSession::Racp::idle;
    context_.log.rate_limited(LogLevel::notice, kLog, "ble:" + d.device.address + ":racp", "stored-records-not-requested",
                              {{"address", d.device.address}, {"error", r.error().message}});
  }
}

void Manager::pump_user_data(DeviceSession& d) {
  if (d.ucp_path.empty()) return;
  while (auto bytes = d.uds.next()) {
    if (!*bytes) continue;  // refused before it was sent; its caller has the error
    if (auto w = bluez_.write_value(d.ucp_path, **bytes); !w) {
      d.uds.write_failed("writing the user control point: " + w.error().message);
      continue;
    }
    return;  // one procedure at a time: the next waits for this one's indication
  }
  if (d.records_after_uds && d.uds.idle()) request_records(d);
}

void Manager::ucp_answered(DeviceSession& d, const std::vector<std::uint8_t>& value) {
  auto r = gatt::decode_user_control_point_response(value);
  if (!r) {
    ++d.malformed;
    context_.counters.add("ble_malformed_packets");
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":malformed", "packet-dropped",
                              {{"address", d.device.address}, {"kind", gatt::to_string(r.error().kind)},
                               {"characteristic", "user_control_point"}, {"error", r.error().detail}});
    return;
  }
  context_.log.info(kLog, "user-control-point-answered",
                    {{"address", d.device.address},
                     {"request", gatt::ucp_op_code_name(r->request_op_code)},
                     {"response", gatt::ucp_response_value_name(r->response_value)}});
  if (!d.uds.on_response(*r)) {
    context_.log.debug(kLog, "user-control-point-unexpected", {{"address", d.device.address}});
  }
  pump_user_data(d);
}

void Manager::user_data(const std::string& address, UdsRequest request, UdsDone done, SteadyTime deadline) {
  auto it = devices_.find(address);
  if (it == devices_.end()) return done(make_error(Errc::not_found, address + " is not a registered BLE device"));
  auto& d = it->second;
  if (d.state == SessionState::subscribed && d.ucp_path.empty()) {
    return done(make_error(Errc::invalid_argument, address + " has no User Data Service (no user control point 0x2A9F): "
                                                          "its users are chosen on the device itself"));
  }
  context_.log.notice(kLog, "user-data-request", {{"address", address}, {"request", to_string(request.op)}});
  d.uds.enqueue(request, std::move(done), deadline);
  if (d.state == SessionState::subscribed) pump_user_data(d);
}

void Manager::on_value(DeviceSession& d, const std::string& characteristic, const std::vector<std::uint8_t>& value) {
  if (!contains(d.subscribed, characteristic)) return;
  const auto uuid = uuid_of(characteristic);
  if (!uuid) return;
  const auto received = context_.clock.now();
  d.last_seen = received;
  if (*uuid == gatt::uuid::kUserControlPoint) return ucp_answered(d, value);
  auto decoded = gatt::decode(*uuid, value);
  if (!decoded) {
    if (decoded.error().kind == gatt::ErrorKind::unsupported) {
      context_.log.debug(kLog, "packet-ignored", {{"address", d.device.address}, {"detail", decoded.error().detail}});
      return;
    }
    ++d.malformed;
    context_.counters.add("ble_malformed_packets");
    // The packet's bytes are a measurement (patient data): only at debug level.
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":malformed", "packet-dropped",
                              {{"address", d.device.address},
                               {"kind", gatt::to_string(decoded.error().kind)},
                               {"characteristic", gatt::characteristic_name(*uuid)}});
    // The raw bytes hold the measurement (patient data): debug only.
    context_.log.debug(kLog, "packet-dropped-detail",
                       {{"address", d.device.address}, {"detail", decoded.error().detail}, {"bytes", hex(value)}});
    return;
  }
  if (*uuid == gatt::uuid::kRecordAccessControlPoint) {
    if (const auto* rc = std::get_if<gatt::RacpResponseCode>(&*decoded)) {
      context_.log.info(kLog, "stored-records-answered",
                        {{"address", d.device.address}, {"response", gatt::racp_response_code_name(rc->response_code)}});
      racp_answered(d, *rc);
    }
    return;
  }
  auto conv = convert(*decoded, d.device.id, received, config_.time);
  if (conv.readings.empty()) {
    ++d.unusable;
    context_.counters.add("ble_unusable_values");
    context_.log.rate_limited(LogLevel::info, kLog, "ble:" + d.device.address + ":unusable", "measurement-unusable",
                              {{"address", d.device.address}});
    context_.log.debug(kLog, "measurement-unusable-detail",
                       {{"address", d.device.address}, {"detail", conv.skipped}});  // may hold a value
    return;
  }
  if (!d.ucp_path.empty()) {
    // A UDS device's record without a User ID of its own is the consented user's; with no consent in
    // this connection nobody knows whose it is: the unknown-user slot, stored unassigned.
    for (auto& r : conv.readings) {
      if (!r.user) r.user = d.uds.current_user().value_or(kUnknownUserSlot);
    }
  }
  const Reading probe = conv.readings.front();  // the record's kind and values, for the evidence
  const auto j = judge(conv, d.device, received, config_.time,
                       [this, &d, &probe](TimePoint instant) { return known(d, probe, instant); });
  report(d, j);
  if (j.sequence == Sequence::restarted || j.sequence == Sequence::wrapped) d.numbering_went_back = true;
  if (j.verdict == Verdict::resent) {
    ++d.resent;
    context_.counters.add("ble_resent_dropped");
    context_.log.debug(kLog, "record-resent-dropped", {{"address", d.device.address}});
    // The mark moved over a record stored before: queued after every reading handed over, so it is
    // never durable before what it covers.
    if (j.marks_changed) persist(d.device);
    return;
  }
  if (j.verdict == Verdict::set_aside) {
    ++d.set_aside;
    context_.counters.add("ble_records_set_aside");
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":set-aside", "record-set-aside",
                              {{"address", d.device.address},
                               {"clock", to_string(j.clock)},
                               {"reason", "the store cannot say whether it holds the record; the device keeps it"}});
    return;
  }
  for (const auto& r : conv.readings) {
    d.recent.push_back(r);
    if (d.recent.size() > kRecentRecords) d.recent.pop_front();
  }
  ingest(d, std::move(conv.readings), j.marks_changed);
}

std::optional<bool> Manager::known(DeviceSession& d, const Reading& r, TimePoint instant) {
  for (const auto& seen : d.recent) {
    if (same_record(seen, r, instant)) return true;
  }
  if (!context_.stored_at) return std::nullopt;
  auto stored = context_.stored_at(d.device.id, instant);
  if (!stored) {
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":resend-check", "resend-check-failed",
                              {{"address", d.device.address}, {"error", stored.error().message}});
    return std::nullopt;
  }
  for (const auto& s : *stored) {
    if (same_record(s, r, instant)) return true;
  }
  return false;
}

void Manager::racp_answered(DeviceSession& d, const gatt::RacpResponseCode& rc) {
  constexpr std::uint8_t kReportStoredRecords = 0x01, kSuccess = 0x01, kNoRecordsFound = 0x06;
  if (rc.request_op_code != kReportStoredRecords || d.racp_path.empty()) return;
  std::optional<std::vector<std::uint8_t>> next;
  if (d.racp == DeviceSession::Racp::after_newest && rc.response_code == kNoRecordsFound) {
    // Nothing after the newest stored: nothing new, or a meter that numbers from 1 again and holds
    // nothing that high yet. Its last record tells (the guard judges it like any other).
    next = std::vector<std::uint8_t>{kReportStoredRecords, 0x06};  // operator: last record
    d.racp = DeviceSession::Racp::last;
  } else if (d.racp == DeviceSession::Racp::last && rc.response_code == kSuccess && d.numbering_went_back) {
    // It did restart: everything it holds, the guard drops what the store has.
    next = std::vector<std::uint8_t>{kReportStoredRecords, 0x01};  // operator: all records
    d.racp = DeviceSession::Racp::all;
  } else {
    d.racp = DeviceSession::Racp::idle;
  }
  if (!next) return;
  d.numbering_went_back = false;
  if (auto r = bluez_.write_value(d.racp_path, *next); !r) {
    d.racp = DeviceSession::Racp::idle;
    context_.log.rate_limited(LogLevel::notice, kLog, "ble:" + d.device.address + ":racp", "stored-records-not-requested",
                              {{"address", d.device.address}, {"error", r.error().message}});
  }
}

void Manager::report(DeviceSession& d, const Judgement& j) {
  d.clock = std::string(to_string(j.clock));
  if (j.verdict != Verdict::fresh) return;
  if (j.clock == DeviceClock::behind || j.clock == DeviceClock::ahead) {
    // Stored at the receive time, the device's own time kept beside it as evidence.
    ++d.clock_wrong;
    context_.counters.add("ble_device_clock_wrong");
    context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + d.device.address + ":clock", "device-clock-wrong",
                              {{"address", d.device.address}, {"clock", to_string(j.clock)}, {"time", "received"}});
  }
  if (j.went_back) {
    // Usually the hub's own Current Time write putting a fast clock right: worth a notice, not an alarm.
    context_.counters.add("ble_device_clock_went_back");
    context_.log.rate_limited(LogLevel::notice, kLog, "ble:" + d.device.address + ":clock-back", "device-clock-went-back",
                              {{"address", d.device.address}});
  }
  if (j.sequence == Sequence::restarted) {
    ++d.sequence_restarts;
    context_.counters.add("ble_sequence_restarts");
    context_.log.warning(kLog, "device-sequence-restarted", {{"address", d.device.address}});
  } else if (j.sequence == Sequence::wrapped) {
    context_.log.info(kLog, "device-sequence-wrapped", {{"address", d.device.address}});
  }
}

void Manager::ingest(DeviceSession& d, std::vector<Reading> readings, bool persist_marks) {
  d.readings += readings.size();
  d.last_reading = context_.clock.now();
  context_.counters.add("ble_readings", readings.size());
  ingests_.push_back({d.device.address, context_.sink.ingest(std::move(readings))});
  // Queued after the readings, so the mark is never durable before what it covers.
  if (persist_marks) persist(d.device);
}

std::shared_future<Result<void>> Manager::persist(const Device& device) {
  auto f = context_.sink.upsert_device(device).share();
  registry_writes_.push_back(f);
  return f;
}

void Manager::collect_ingests(bool wait) {
  const auto ready = [wait](const auto& f) {
    return wait || f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  };
  for (auto it = ingests_.begin(); it != ingests_.end();) {
    if (!ready(it->result)) {
      ++it;
      continue;
    }
    auto r = it->result.get();
    if (!r) {
      context_.log.error(kLog, "readings-not-stored", {{"address", it->address}, {"error", r.error().message}});
    } else {
      for (std::size_t i = 0; i < r->status.size(); ++i) {
        if (r->status[i] != IngestStatus::rejected) continue;
        // The refusal quotes the values it found implausible: those only at debug level.
        // The reason may quote the reading's values: patient data, so only at debug level.
        context_.log.rate_limited(LogLevel::warning, kLog, "ble:" + it->address + ":rejected", "reading-rejected",
                                  {{"address", it->address}});
        context_.log.debug(kLog, "reading-rejected-detail", {{"address", it->address}, {"error", r->errors[i]}});
      }
    }
    it = ingests_.erase(it);
  }
  for (auto it = registry_writes_.begin(); it != registry_writes_.end();) {
    if (!ready(*it)) {
      ++it;
      continue;
    }
    if (auto r = it->get(); !r) context_.log.error(kLog, "registry-write-failed", {{"error", r.error().message}});
    it = registry_writes_.erase(it);
  }
}

}  // namespace carehub::ble
