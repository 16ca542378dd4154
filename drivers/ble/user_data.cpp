#include "drivers/ble/user_data.hpp"

#include <algorithm>

namespace carehub::ble {
namespace {

std::uint8_t op_code(UdsRequest::Op op) {
  switch (op) {
    case UdsRequest::Op::register_user: return gatt::ucp::kRegisterNewUser;
    case UdsRequest::Op::consent: return gatt::ucp::kConsent;
    case UdsRequest::Op::delete_user_data: return gatt::ucp::kDeleteUserData;
  }
  return 0;
}

// What the technician reads when the device says no.
std::string refusal(const UdsRequest& req, std::uint8_t value) {
  std::string why = "the device refused " + std::string(to_string(req.op)) + ": " +
                    std::string(gatt::ucp_response_value_name(value));
  if (value == gatt::ucp::kUserNotAuthorized) why += " (wrong consent code for this user)";
  if (value == gatt::ucp::kOperationFailed && req.op == UdsRequest::Op::register_user) why += " (no free user slot?)";
  return why;
}

}  // namespace

std::string_view to_string(UdsRequest::Op op) {
  switch (op) {
    case UdsRequest::Op::register_user: return "register";
    case UdsRequest::Op::consent: return "consent";
    case UdsRequest::Op::delete_user_data: return "delete";
  }
  return "unknown";
}

void UserDataSession::enqueue(UdsRequest req, UdsDone done, Time deadline) {
  queue_.push_back({req, std::move(done), deadline});
}

std::optional<Result<std::vector<std::uint8_t>>> UserDataSession::next() {
  if (in_flight_ || queue_.empty()) return std::nullopt;
  Pending p = std::move(queue_.front());
  queue_.pop_front();
  gatt::Result<std::vector<std::uint8_t>> bytes = std::vector<std::uint8_t>{};
  switch (p.req.op) {
    case UdsRequest::Op::register_user: bytes = gatt::encode_register_new_user(p.req.code); break;
    case UdsRequest::Op::consent:
      if (p.req.user < 0 || p.req.user > 0xFE) {
        bytes = gatt::DecodeError{gatt::ErrorKind::malformed, "user data: user index " + std::to_string(p.req.user) + " is outside 0..254"};
      } else {
        bytes = gatt::encode_consent(static_cast<std::uint8_t>(p.req.user), p.req.code);
      }
      break;
    case UdsRequest::Op::delete_user_data: bytes = gatt::encode_delete_user_data(); break;
  }
  if (!bytes) {
    auto e = make_error(Errc::invalid_argument, bytes.error().detail);
    p.done(e);
    return Result<std::vector<std::uint8_t>>(e);
  }
  in_flight_ = std::move(p);
  return Result<std::vector<std::uint8_t>>(std::move(*bytes));
}

bool UserDataSession::on_response(const gatt::UcpResponse& r) {
  if (!in_flight_ || r.request_op_code != op_code(in_flight_->req.op)) return false;
  Pending p = std::move(*in_flight_);
  in_flight_.reset();
  if (!r.success()) {
    if (p.req.op == UdsRequest::Op::consent && r.response_value == gatt::ucp::kUserNotAuthorized) {
      consents_.erase(p.req.user);  // a code that stopped working (the user was re-registered): not again
    }
    p.done(make_error(r.response_value == gatt::ucp::kUserNotAuthorized ? Errc::invalid_argument : Errc::io,
                      refusal(p.req, r.response_value)));
    return true;
  }
  switch (p.req.op) {
    case UdsRequest::Op::register_user: {
      const int user = r.user_index.value_or(-1);
      // Consent right away, ahead of anything else: the new user's data is what the technician wants next.
      queue_.push_front({UdsRequest{UdsRequest::Op::consent, user, p.req.code}, [](Result<UdsAnswer>) {}, p.deadline});
      p.done(UdsAnswer{user});
      break;
    }
    case UdsRequest::Op::consent:
      current_ = p.req.user;
      consents_[p.req.user] = p.req.code;
      p.done(UdsAnswer{p.req.user});
      break;
    case UdsRequest::Op::delete_user_data:
      p.done(UdsAnswer{current_.value_or(-1)});
      break;
  }
  return true;
}

void UserDataSession::expire(Time now) {
  if (in_flight_ && now >= in_flight_->deadline) {
    auto p = std::move(*in_flight_);
    in_flight_.reset();
    p.done(make_error(Errc::timeout, "the device did not answer " + std::string(to_string(p.req.op))));
  }
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (now < it->deadline) {
      ++it;
      continue;
    }
    auto done = std::move(it->done);
    const auto op = it->req.op;
    it = queue_.erase(it);
    done(make_error(Errc::timeout, "the device did not connect in time for " + std::string(to_string(op)) +
                                       ": wake it (press its button) and try again"));
  }
}

void UserDataSession::fail_all(const std::string& why) {
  current_.reset();
  auto in_flight = std::move(in_flight_);
  in_flight_.reset();
  auto queue = std::move(queue_);
  queue_.clear();
  if (in_flight) in_flight->done(make_error(Errc::unavailable, why));
  for (auto& p : queue) p.done(make_error(Errc::unavailable, why));
}

void UserDataSession::write_failed(const std::string& why) {
  if (!in_flight_) return;
  auto p = std::move(*in_flight_);
  in_flight_.reset();
  p.done(make_error(Errc::io, why));
}

std::optional<UserDataSession::Time> UserDataSession::next_deadline() const {
  std::optional<Time> t;
  if (in_flight_) t = in_flight_->deadline;
  for (const auto& p : queue_) {
    if (!t || p.deadline < *t) t = p.deadline;
  }
  return t;
}

}  // namespace carehub::ble
