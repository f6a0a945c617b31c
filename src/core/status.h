#pragma once
// Error values used across module boundaries: absl::Status with canonical codes, and
// Result<T> (= absl::StatusOr<T>). Two macros keep call sites short.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace herald {

using Status = absl::Status;
template <typename T>
using Result = absl::StatusOr<T>;

}  // namespace herald

#define HERALD_CONCAT_INNER_(a, b) a##b
#define HERALD_CONCAT_(a, b) HERALD_CONCAT_INNER_(a, b)

// Evaluates `expr` (a Status); returns it from the enclosing function if it is not OK.
#define HERALD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status herald_status_ = (expr);          \
    if (!herald_status_.ok()) return herald_status_; \
  } while (0)

// Evaluates `rexpr` (a Result<T>); on error returns its status, otherwise moves the value
// into `lhs` (which may be a declaration, e.g. `auto x`).
#define HERALD_ASSIGN_OR_RETURN(lhs, rexpr) \
  HERALD_ASSIGN_OR_RETURN_IMPL_(HERALD_CONCAT_(herald_result_, __LINE__), lhs, rexpr)
#define HERALD_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                  \
  if (!result.ok()) return std::move(result).status();    \
  lhs = std::move(result).value()
