#include "common/auth/rs256.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

namespace gthulhu::auth {

bool rs256_verifies(EVP_PKEY* key, std::string_view signing_input, std::string_view signature) {
  if (key == nullptr || EVP_PKEY_is_a(key, "RSA") != 1) return false;
  if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key))) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, EVP_sha256(), nullptr, key) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  // A bad signature leaves a reason on this thread's queue; nobody reads it.
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace gthulhu::auth
