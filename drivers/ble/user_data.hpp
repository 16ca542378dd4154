#pragma once
// One device's User Data Service conversation (0x181C; codec in drivers/gatt/user_data.hpp): the
// technician's register / consent / delete requests and the hub's own consent on each connection, one
// User Control Point procedure at a time (a device answers one before it takes the next), in order,
// each with a deadline. Pure bookkeeping: the Manager writes the bytes and feeds the indications back.
//
// Why consent matters to attribution: a UDS device shows and sends the data of the user who consented
// last. Readings that carry no User ID of their own (glucose) take that user's index; before any consent
// succeeded in this connection they take kUnknownUserSlot (unassigned, never guessed).
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "drivers/gatt/user_data.hpp"

namespace carehub::ble {

struct UdsRequest {
  enum class Op { register_user, consent, delete_user_data } op = Op::consent;
  int user = -1;           // consent: the user index
  std::uint16_t code = 0;  // register, consent: the consent code (0..9999)
};
std::string_view to_string(UdsRequest::Op op);

struct UdsAnswer {
  int user = -1;  // register: the new index; consent: the index consented; delete: the index deleted
};
using UdsDone = std::function<void(Result<UdsAnswer>)>;

class UserDataSession {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // Queues `req`; `done` is called exactly once: with the device's answer, an error, or at `deadline`.
  void enqueue(UdsRequest req, UdsDone done, Time deadline);
  // With nothing in flight: the next request's bytes (it is in flight from now on), or an encoding error
  // (that request is answered with it and dropped). Empty when nothing waits or one is in flight.
  std::optional<Result<std::vector<std::uint8_t>>> next();
  // The device's indication. Answers the request in flight; a Register New User success queues the
  // consent for the new user first (so the technician's next readings are attributed to it at once).
  // A response to no request in flight, or to another op code, is ignored (returns false).
  bool on_response(const gatt::UcpResponse& r);
  // Fails every request whose deadline passed (one in flight included: the device never answered).
  void expire(Time now);
  // Fails everything (the device disconnected, bluetoothd went away, it has no UDS): answered with `why`.
  void fail_all(const std::string& why);
  // The write of the request in flight failed.
  void write_failed(const std::string& why);

  bool idle() const { return !in_flight_ && queue_.empty(); }
  bool in_flight() const { return in_flight_.has_value(); }
  std::optional<Time> next_deadline() const;
  // The user whose data the device shows now (the last consent that succeeded), if any.
  std::optional<int> current_user() const { return current_; }
  void reset_current() { current_.reset(); }
  // The consent codes that worked, by user index: given again on every connection.
  const std::map<int, std::uint16_t>& consents() const { return consents_; }
  void remember(int user, std::uint16_t code) { consents_[user] = code; }

 private:
  struct Pending {
    UdsRequest req;
    UdsDone done;
    Time deadline;
  };
  std::optional<Pending> in_flight_;
  std::deque<Pending> queue_;
  std::optional<int> current_;
  std::map<int, std::uint16_t> consents_;
};

}  // namespace carehub::ble
