#pragma once
// Owning pointers for OpenSSL objects, so every early return frees what it allocated.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace gthulhu::crypto {

template <auto Free>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free_all>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpensslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslDeleter<X509_STORE_CTX_free>>;

// A read-only memory BIO over `text`, which must outlive the BIO.
BioPtr memory_bio(const std::string& text);

// Everything written to a memory BIO, as a string.
std::string bio_contents(BIO* bio);

// The oldest message on OpenSSL's per-thread error queue (then clears the queue), so
// exceptions can say what OpenSSL disliked; `fallback` when the queue is empty.
std::string take_openssl_error(const std::string& fallback);

}  // namespace gthulhu::crypto
