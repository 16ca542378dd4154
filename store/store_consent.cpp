// Consent (issue 18): which kinds of a patient's readings may leave the hub. The semantics are in
// store.hpp (ConsentChange); here the record (table `consent`, schema 9, append-only) and what a change
// does to the readings already stored. Withheld readings (sync_state 6) stay judged by the rules
// (readings_between includes them) and are never in the uploader's queue (sync_state 0).
#include "store/store.hpp"
#include "store/store_impl.hpp"

namespace carehub {
namespace {

constexpr std::int64_t kPending = static_cast<std::int64_t>(SyncState::pending);
constexpr std::int64_t kDead = static_cast<std::int64_t>(SyncState::dead);
constexpr std::int64_t kWithheld = static_cast<std::int64_t>(SyncState::withheld);

// Allowed at ?3 (a measurement time) and now, for patient ?1 and kind ?2: the patient's own newest record
// (at ?3: the newest in force then), else the default's, else allowed.
constexpr std::string_view kAllowed =
    "SELECT COALESCE((SELECT allowed FROM consent WHERE patient = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1),"
    " (SELECT allowed FROM consent WHERE patient = '*' AND kind = ?2 ORDER BY id DESC LIMIT 1), 1),"
    " COALESCE((SELECT allowed FROM consent WHERE patient = ?1 AND kind = ?2 AND since_ms <= ?3"
    " ORDER BY since_ms DESC, id DESC LIMIT 1),"
    " (SELECT allowed FROM consent WHERE patient = '*' AND kind = ?2 AND since_ms <= ?3"
    " ORDER BY since_ms DESC, id DESC LIMIT 1), 1)";

// The readings a change applies to: the patient's, or for the default those of every patient with no
// record of their own for the kind (never the unassigned: empty patient).
std::string whose(bool is_default) {
  return is_default ? " AND patient != '' AND patient NOT IN (SELECT patient FROM consent WHERE kind = ?2 AND patient != '*')"
                    : " AND patient = ?1";
}

ConsentChange change_from(const sqlite::Statement& st) {
  ConsentChange c;
  c.patient = st.text(0);
  c.kind = kind_from_string(st.text(1)).value_or(Kind::blood_pressure);  // written by set_consent from a Kind
  c.allowed = st.int64(2) != 0;
  c.since = from_epoch_ms(st.int64(3));
  c.by = st.text(4);
  c.reason = st.text(5);
  return c;
}

Result<std::vector<ConsentChange>> changes(sqlite::Statement& st) {
  std::vector<ConsentChange> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) break;
    if (!kind_from_string(st.text(1))) {
      auto kind = st.text(1);
      st.reset();
      return make_error(Errc::internal, "store: a consent record names unknown kind " + kind);
    }
    out.push_back(change_from(st));
  }
  return out;
}

}  // namespace

Result<bool> StoreWriter::withholds(const std::string& patient, Kind kind, TimePoint time) {
  if (patient.empty()) return false;
  if (!impl_->consent_recorded) {
    auto any = impl_->db.query_int("SELECT EXISTS (SELECT 1 FROM consent)");
    if (!any) return any.error();
    impl_->consent_recorded = *any != 0;
  }
  if (!*impl_->consent_recorded) return false;  // the common case: nobody ever restricted anything
  auto st = impl_->cached(std::string(kAllowed));
  if (!st) return st.error();
  (*st)->bind(1, patient).bind(2, to_string(kind)).bind(3, to_epoch_ms(time));
  auto row = (*st)->step();
  if (!row) return row.error();
  if (!*row) return make_error(Errc::internal, "store: the consent query returned no row");
  const bool allowed = (*st)->int64(0) != 0 && (*st)->int64(1) != 0;
  (*st)->reset();
  return !allowed;
}

Result<ConsentApplied> StoreWriter::set_consent(const ConsentChange& change, bool release_withheld) {
  if (change.patient.empty()) return make_error(Errc::invalid_argument, "consent needs a patient (or the default, \"*\")");
  auto insert = impl_->cached(
      "INSERT INTO consent (patient, kind, allowed, since_ms, set_by, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!insert) return insert.error();
  const auto kind = std::string(to_string(change.kind));
  if (auto r = (*insert)->bind(1, change.patient)
                   .bind(2, kind)
                   .bind(3, std::int64_t{change.allowed})
                   .bind(4, to_epoch_ms(change.since))
                   .bind(5, change.by)
                   .bind(6, change.reason)
                   .run();
      !r) {
    return r.error();
  }
  impl_->consent_recorded = true;
  const bool is_default = change.patient == kConsentDefault;
  ConsentApplied applied;
  // Moves the patient's readings of the kind from one state to another, keeping the per-state counts.
  auto move = [&](std::int64_t from, std::int64_t to) -> Result<std::int64_t> {
    auto st = impl_->cached("UPDATE readings SET sync_state = ?3 WHERE kind = ?2 AND sync_state = ?4" + whose(is_default));
    if (!st) return st.error();
    (*st)->bind(2, kind).bind(3, to).bind(4, from);
    if (!is_default) (*st)->bind(1, change.patient);
    if (auto r = (*st)->run(); !r) return r.error();
    const auto n = impl_->db.changes();
    if (auto c = count_change(from, to, n); !c) return c.error();
    return n;
  };
  if (!change.allowed) {
    // What has not left yet stays: a dead letter is not on the server either, and a requeue must not send it.
    for (const auto from : {kPending, kDead}) {
      auto n = move(from, kWithheld);
      if (!n) return n.error();
      applied.withheld += *n;
    }
  } else if (release_withheld) {
    auto n = move(kWithheld, kPending);
    if (!n) return n.error();
    applied.released = *n;
  }
  return applied;
}

Result<std::vector<ConsentChange>> StoreReader::consent(const std::optional<std::string>& patient) {
  auto st = impl_->db.prepare_cached(
      "SELECT patient, kind, allowed, since_ms, set_by, reason FROM consent WHERE id IN (SELECT MAX(id) FROM consent"
      " GROUP BY patient, kind) AND (?1 IS NULL OR patient IN (?1, '*')) ORDER BY patient != '*', patient, kind");
  if (!st) return st.error();
  if (patient) st->bind(1, *patient);
  return changes(*st);
}

Result<std::vector<ConsentChange>> StoreReader::consent_history(const std::optional<std::string>& patient) {
  auto st = impl_->db.prepare_cached(
      "SELECT patient, kind, allowed, since_ms, set_by, reason FROM consent"
      " WHERE ?1 IS NULL OR patient IN (?1, '*') ORDER BY id");
  if (!st) return st.error();
  if (patient) st->bind(1, *patient);
  return changes(*st);
}

Result<std::vector<WithheldCount>> StoreReader::withheld_counts() {
  auto st = impl_->db.prepare_cached(
      "SELECT patient, kind, COUNT(*) FROM readings WHERE sync_state = 6 GROUP BY patient, kind ORDER BY patient, kind");
  if (!st) return st.error();
  std::vector<WithheldCount> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    const auto kind = kind_from_string(st->text(1));
    if (!kind) {
      auto name = st->text(1);
      st->reset();
      return make_error(Errc::internal, "store: a withheld reading has unknown kind " + name);
    }
    out.push_back({st->text(0), *kind, st->int64(2)});
  }
  return out;
}

}  // namespace carehub
