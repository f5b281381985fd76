// A look at a PEM file's header, for clearer key errors than OpenSSL's "bad decrypt".
// Thread-safety: a pure function of the file.
#pragma once

#include <string>

namespace cicada {

// True when the PEM key at `path` says it is encrypted: "BEGIN ENCRYPTED PRIVATE KEY"
// (PKCS #8), or the traditional "Proc-Type: 4,ENCRYPTED". False when unreadable.
bool pem_is_encrypted(const std::string& path);

}  // namespace cicada
