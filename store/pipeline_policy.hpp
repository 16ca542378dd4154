#pragma once
// The pipeline's policy numbers, shared by its files (pipeline_commit.cpp, pipeline_space.cpp).
#include <chrono>
#include <cstdint>
#include <string>

namespace carehub::pipeline_policy {

using namespace std::chrono_literals;

// Retention walks the table a window at a time so it never holds the writer for long; a pass over a
// million readings takes a minute, then the next pass waits.
inline constexpr std::int64_t kRetentionWindow = 20000;
inline constexpr auto kRetentionStep = 1s;
inline constexpr auto kRetentionPass = 10min;
// The buffer stays "shedding" (at its cap) until retention or a larger cap bring it below this share.
inline constexpr std::int64_t kShedClearPercent = 80;
// Shedding and refusals are logged at most this often (the counters count every one).
inline constexpr auto kLoudEvery = 60s;
// After a full disk, free space the filesystem must offer again before readings are tried again.
inline constexpr std::int64_t kDiskHeadroom = std::int64_t{1} << 20;

inline std::string mib(std::int64_t bytes) {
  return std::to_string(bytes / (1024 * 1024)) + "." + std::to_string(bytes % (1024 * 1024) * 10 / (1024 * 1024)) +
         " MiB";
}

}  // namespace carehub::pipeline_policy
