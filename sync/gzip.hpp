#pragma once
// gzip (RFC 1952) for request bodies: FHIR JSON compresses about tenfold, which matters on mobile links.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace carehub::sync {

Result<std::string> gzip_compress(std::string_view data);

}  // namespace carehub::sync
