#pragma once
// Keys for the JWT tests: two fixed ones, whose RFC 7638 thumbprints and public coordinates were computed
// independently (node:crypto's JWK export, SHA-256 of the canonical members), and fresh ones made here.
// Test-only keys: they sign nothing anywhere else.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace carehub::sync::test_keys {

inline constexpr const char* kEcPem = R"(-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDBqeg3djRmwLFxNsjp7
ikPf+Q/KgmJnvelrLM+BxMwl55CdkrR/I33Qjoc2xS+K8KuhZANiAARDV3pq3NcP
4qu6RA+g8891gT8eGSnkRZpc2+qLEeDjdvfLLG9XOZKg1qrC9wAKwWe1NkuqZYLs
17VHflnJJ4ExplpHTz/1vqsZRm5ZMFAnC0nJga1flPFVy5YGYpOqBxc=
-----END PRIVATE KEY-----
)";
inline constexpr const char* kEcKid = "TEnRZofqFpkgb1-S7q6F0JyiCUOIqh01-QSEGUcZs2Q";
inline constexpr const char* kEcX = "Q1d6atzXD-KrukQPoPPPdYE_Hhkp5EWaXNvqixHg43b3yyxvVzmSoNaqwvcACsFn";
inline constexpr const char* kEcY = "tTZLqmWC7Ne1R35ZySeBMaZaR08_9b6rGUZuWTBQJwtJyYGtX5TxVcuWBmKTqgcX";

inline constexpr const char* kRsaPem = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCEaVlcS06CP/lp
keIJjCal4LDKrDdQlbLU2eljtRghyUkoQjrrykrJtmduu5p+LlYDCLRRNz3nRWFF
tK2e5SHlLoWA6wFno7zuF8nRbC9AavV0Oov2td72RVpLh8ur5dsUKsnrdA0yYnVp
4wgV+1cp+J/0IVdFJxngac0I8PCaWrHiK36Lp0yibpHJEMave74DlwuIeDgcOhik
UcUtSiUdLmAVw6VXx/vmX9i58MjGdGsQ4sHyv3Cej6MRM4Uzpf9rpesgRWMZcc5k
gQtmqFrPjgJcPbT7lf+rVqESD/owCGFCDWVN7fpdFqXs67JfNBP/71be/uq4MqSh
nUhtQ8UvAgMBAAECggEAC6UGJk87HspIgWfCdKt+JJ1ffttpW+1mVkC5vTqKXkJI
7EDy1JSsQhQIAZ1/BzTE/KxRy0ir6YBY/xvWHwCwm+qc9Ar2yyoDrf6qkX/NogEm
B+w0LeStsIPF3pmZKEtlGl9u9YV1uaYeBEtihShe8IJ8cqhR9/Np26oCTZR+3FwY
II924VcnlmRnaCnvq2t5cGxbSCWcwXOccv16KYN1/EcXsU6mLEV/ABH2vPQYwkrY
+M03qbu4Lj1bDGfqOKLikQAJ4X++ZOWZi1q28h3tuqbLhomnSNpnRRKetnTNvjVY
F1kSWE1O/ehFeP4Dh9CJ0jY22tXUiGNsjXJkXO2BZQKBgQC7FuBle97rNITWMZuX
6BZHTaaAg7JvgdrxJmfG4L2SDxIoqMSgnFSiJUrYgf4GdfzVfKxq4CRDZgO9rzQN
u7+WEQ3CEBeheZfjQBNebUWy8B+BU7Wd5/zmEhTXs250hhu5wfFUloDdJpMKkjtn
Fki8K4s3o3nO7AG6HX+2ZrZNqwKBgQC1LsMd0q9aw8AIoXVphwHAtvhlVI0RHJZe
nAKYBzrvaR49I0rctzOCufRifu9I+IQNycV0aaALT1pspQDWhPnsi8KEig4AqzM+
oH9AbOYG94ycd/Hg0gHgFED5crqnTzhZvTiHQAZ5ewndK1Fq2d9jhcVIP/QXaazS
Obf/Awb6jQKBgHsqp1YIQ4xiyeTdScqqzyfn9ep7SRhhy8qgdweV4xdp9pFv8equ
oIUSugBpK9wDBw1hA31kzFrWqTXSRxmXdZyM45rTz0rN6vF/uICcvZr8vDD+8/zd
wj+Qvcn3ZYsu0sfq5z7BylpNT9ZQyOyn3gCLRh69764K72QgkXh6jB/7AoGAS0E6
D+gTp7qIx8zwbL2Dz9zvvX7p/QKHvpJETYsrQofB5JkFHjoF7jV4uXSJxSBcETIO
jrTUof36zAeZGoEvIb5HNC/3cvWpGkklscfJn3kw8Uissbnox38CIdoyhw3TlQqQ
MTU5uzmMtk2oyp3mOHs2nzTZGORuwP7yWrySKH0CgYEAozA6CUDEaZjqn/KF2eB5
XAdWmkych9eiYGYF5YgVUUIsybHGvg33bi+eQ3MNs/ph6mMouOe/YFBYYFwvghXY
9s7uqsmmd+IHAOVDkOpeLe9oa4v4gzxj1eQNH9GN3zAkgVcWnM5iW+JSmvo0HTJg
c2evTH494fNllDRKeTQB/Co=
-----END PRIVATE KEY-----
)";
inline constexpr const char* kRsaKid = "R_JRzJpSkXroLR1IkQAka_4q-GTRORHa4Ls0st98G4c";

// A new private key as PEM (PKCS#8): "EC" on `curve`, or "RSA" of `bits`; "ED25519" for a refused type.
inline std::string generate_pem(const std::string& type, const std::string& curve = "P-384", unsigned bits = 2048) {
  EVP_PKEY* raw = type == "EC"    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve.c_str())
                  : type == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits))
                                  : EVP_PKEY_Q_keygen(nullptr, nullptr, type.c_str());
  if (!raw) throw std::runtime_error("cannot generate a " + type + " key");
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace carehub::sync::test_keys
