// Attribution's half of the store (schema version 6): user-slot bindings, and the technician's decision
// on unassigned readings. Nothing here deletes a reading a patient does not already hold.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {
namespace {

Result<std::vector<UserBinding>> collect_bindings(sqlite::Statement& st) {
  std::vector<UserBinding> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    out.push_back({st.text(0), static_cast<int>(st.int64(1)), st.text(2), from_epoch_ms(st.int64(3)), st.text(4)});
  }
  return out;
}

constexpr std::string_view kBindingsQuery =
    "SELECT device, user, patient, since_ms, bound_by FROM bindings ORDER BY device, user";

// The row a resolution starts from.
struct Row {
  std::int64_t seq = 0;
  std::int64_t state = 0;
  Reading reading;
  bool quarantined = false;  // its time was not believed when it arrived
};

std::vector<std::string> unique(const std::vector<std::string>& uids) {
  std::vector<std::string> out;
  for (const auto& u : uids) {
    if (std::find(out.begin(), out.end(), u) == out.end()) out.push_back(u);
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<void> StoreWriter::put_binding(const UserBinding& b) {
  if (b.patient.empty() || b.device.empty() || b.user < 0 || b.user >= kUnknownUser) {
    return make_error(Errc::invalid_argument, "a user binding needs a device, a user slot 0..254 (255 is the device's "
                                              "\"unknown user\") and a patient");
  }
  auto st = impl_->cached(
      "INSERT INTO bindings (device, user, patient, since_ms, bound_by) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (device, user) DO UPDATE SET patient = excluded.patient, since_ms = excluded.since_ms,"
      " bound_by = excluded.bound_by");
  if (!st) return st.error();
  return (*st)->bind(1, b.device).bind(2, std::int64_t{b.user}).bind(3, b.patient).bind(4, to_epoch_ms(b.since)).bind(5, b.by).run();
}

Result<bool> StoreWriter::remove_binding(const std::string& device, int user) {
  auto st = impl_->cached("DELETE FROM bindings WHERE device = ?1 AND user = ?2");
  if (!st) return st.error();
  if (auto r = (*st)->bind(1, device).bind(2, std::int64_t{user}).run(); !r) return r.error();
  return impl_->db.changes() == 1;
}

Result<std::vector<UserBinding>> StoreWriter::bindings() {
  auto st = impl_->cached(std::string(kBindingsQuery));
  if (!st) return st.error();
  return collect_bindings(**st);
}

Result<std::vector<UserBinding>> StoreReader::bindings() {
  auto st = impl_->db.prepare_cached(kBindingsQuery);
  if (!st) return st.error();
  return collect_bindings(*st);
}

namespace {

// Loads the rows named by `uids` (each once), or says which are unknown or not in an allowed state.
Result<std::vector<Row>> load_rows(sqlite::Statement& st, const std::vector<std::string>& uids,
                                   std::initializer_list<std::int64_t> allowed, std::string_view action,
                                   std::string_view allowed_text = "unassigned") {
  std::vector<Row> rows;
  std::vector<std::string> unknown, wrong_state;
  for (const auto& uid : uids) {
    auto row = st.bind(1, uid).step();
    if (!row) return row.error();
    if (!*row) {
      unknown.push_back(uid);
      continue;
    }
    Row r;
    r.seq = st.int64(0);
    r.state = st.int64(1);
    const auto kind = kind_from_string(st.text(2));
    if (!kind) {
      st.reset();
      return make_error(Errc::internal, "store: reading " + uid + " has unknown kind " + st.text(2));
    }
    r.reading.kind = *kind;
    r.reading.device = st.text(3);
    r.reading.time = from_epoch_ms(st.int64(4));
    if (auto dt = st.optional_int64(5)) r.reading.device_time = from_epoch_ms(*dt);
    r.reading.received = from_epoch_ms(st.int64(6));
    r.reading.source = st.text(7);
    // Our own row, written from a dump of validated JSON: not peer input, so not parse_peer_json.
    const auto values = nlohmann::json::parse(st.text(8), nullptr, false);
    if (auto u = st.optional_int64(9)) r.reading.user = static_cast<int>(*u);
    r.quarantined = !st.text(10).empty();
    st.reset();
    if (!values.is_object()) return make_error(Errc::internal, "store: reading " + uid + " has corrupt values");
    for (const auto& [name, v] : values.items()) r.reading.values[name] = v.get<double>();
    if (std::find(allowed.begin(), allowed.end(), r.state) == allowed.end()) {
      wrong_state.push_back(uid + " (" + std::string(to_string(static_cast<SyncState>(r.state))) + ")");
      continue;
    }
    rows.push_back(std::move(r));
  }
  if (!unknown.empty() || !wrong_state.empty()) {
    std::string message = "nothing was " + std::string(action) + ":";
    if (!unknown.empty()) message += " no reading with uid " + joined(unknown) + ";";
    if (!wrong_state.empty()) message += " not " + std::string(allowed_text) + ": " + joined(wrong_state) + ";";
    message.pop_back();
    return make_error(unknown.empty() ? Errc::invalid_argument : Errc::not_found, message);
  }
  return rows;
}

constexpr std::string_view kRowQuery =
    "SELECT seq, sync_state, kind, device, time_ms, device_time_ms, received_ms, source, values_json, user_index,"
    " COALESCE(quarantine_reason, '') FROM readings WHERE uid = ?1";

}  // namespace

Result<std::vector<AssignedReading>> StoreWriter::assign_readings(const std::vector<std::string>& uids,
                                                                  const std::string& patient, const std::string& who,
                                                                  TimePoint now, std::vector<StoredReading>* assigned,
                                                                  std::string_view hub_id) {
  if (patient.empty()) return make_error(Errc::invalid_argument, "assigning readings needs a patient");
  const auto asked = unique(uids);
  auto select = impl_->cached(std::string(kRowQuery));
  if (!select) return select.error();
  auto rows = load_rows(**select, asked, {4, 5}, "assigned");
  if (!rows) return rows.error();
  auto exists = impl_->cached("SELECT seq FROM readings WHERE uid = ?1");
  auto drop = impl_->cached("DELETE FROM readings WHERE seq = ?1");
  auto alias = impl_->cached("INSERT INTO reading_aliases (old_uid, uid) VALUES (?1, ?2) ON CONFLICT (old_uid) DO UPDATE SET uid = excluded.uid");
  auto move = impl_->cached(
      "UPDATE readings SET uid = ?2, patient = ?3, sync_state = ?4, resolved_by = ?5, resolved_ms = ?6 WHERE seq = ?1");
  for (auto* st : {&exists, &drop, &alias, &move}) {
    if (!*st) return st->error();
  }
  std::vector<AssignedReading> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto& row = (*rows)[i];
    const auto& old_uid = asked[i];
    row.reading.patient = patient;
    const auto uid = reading_uid(row.reading, hub_id);
    auto found = (*exists)->bind(1, uid).step();
    if (!found) return found.error();
    const bool already = *found && (*exists)->int64(0) != row.seq;
    (*exists)->reset();
    if (already) {
      // The patient holds this record already (stored before, or by another uid in this call): the copy
      // goes, and its uid becomes an alias of the stored one, so nothing is lost and nothing doubles.
      if (auto r = (*drop)->bind(1, row.seq).run(); !r) return r.error();
      if (auto c = count_change(row.state, -1, 1); !c) return c.error();
    } else {
      auto state = static_cast<std::int64_t>(row.quarantined ? SyncState::quarantined : SyncState::pending);
      if (!row.quarantined) {  // the patient's consent decides whether it may leave, as on arrival
        auto withheld = withholds(patient, row.reading.kind, row.reading.time);
        if (!withheld) return withheld.error();
        if (*withheld) state = static_cast<std::int64_t>(SyncState::withheld);
      }
      if (auto r = (*move)->bind(1, row.seq).bind(2, uid).bind(3, patient).bind(4, state).bind(5, who).bind(6, to_epoch_ms(now)).run();
          !r) {
        return r.error();
      }
      if (auto c = count_change(row.state, state, 1); !c) return c.error();
      if (assigned && !row.quarantined) {
        StoredReading s;
        s.seq = row.seq;
        s.uid = uid;
        s.reading = row.reading;
        s.resolved_by = who;
        s.resolved = now;
        assigned->push_back(std::move(s));
      }
    }
    if (old_uid != uid) {
      if (auto r = (*alias)->bind(1, old_uid).bind(2, uid).run(); !r) return r.error();
    }
    out.push_back({old_uid, uid, already});
  }
  return out;
}

Result<std::int64_t> StoreWriter::discard_readings(const std::vector<std::string>& uids, const std::string& who,
                                                   const std::string& reason, TimePoint now) {
  const auto asked = unique(uids);
  auto select = impl_->cached(std::string(kRowQuery));
  if (!select) return select.error();
  // A dead letter too (issue 18: a technician retries or discards one): the server refused it, and the
  // technician decides it is not to be sent; it stays, with who, when and why, like an unassigned one.
  auto rows = load_rows(**select, asked, {2, 4, 5}, "discarded", "unassigned or dead-lettered");
  if (!rows) return rows.error();
  auto mark = impl_->cached(
      "UPDATE readings SET sync_state = 5, resolved_by = ?2, resolved_ms = ?3, discard_reason = ?4 WHERE seq = ?1");
  if (!mark) return mark.error();
  std::int64_t changed = 0;
  for (const auto& row : *rows) {
    if (row.state == 5) continue;  // discarded already: who and when stay the first decision's
    if (auto r = (*mark)->bind(1, row.seq).bind(2, who).bind(3, to_epoch_ms(now)).bind(4, reason).run(); !r) return r.error();
    if (auto c = count_change(row.state, 5, 1); !c) return c.error();
    ++changed;
  }
  return changed;
}

}  // namespace carehub
