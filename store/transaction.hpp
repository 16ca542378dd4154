#pragma once
// The writer's open transaction (StoreWriter::begin), as a handle that names no SQLite type: the pipeline,
// the rules simulator and tests hold one without seeing the database underneath.
#include <memory>

#include "core/result.hpp"

namespace carehub {

class StoreWriter;

// BEGIN IMMEDIATE happened when it was made; destroying it rolls back unless commit() succeeded (a failed
// commit also rolls back here). Move-only; at most one is open per StoreWriter.
class StoreTransaction {
 public:
  StoreTransaction(StoreTransaction&& other) noexcept;
  StoreTransaction& operator=(StoreTransaction&&) = delete;
  StoreTransaction(const StoreTransaction&) = delete;
  StoreTransaction& operator=(const StoreTransaction&) = delete;
  ~StoreTransaction();

  // Stores the readings' per-state counts, then COMMIT (durable or not as begin() was asked).
  Result<void> commit();

 private:
  friend class StoreWriter;
  struct Impl;  // store/store_impl.hpp
  explicit StoreTransaction(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub
