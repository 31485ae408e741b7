#include "coordinator/web/security_headers.h"

namespace gthulhu::coordinator {

void add_ui_security_headers(http::Response& resp) {
  resp.with_header("Content-Security-Policy", kUiContentSecurityPolicy)
      .with_header("X-Content-Type-Options", "nosniff")
      .with_header("X-Frame-Options", "DENY")
      .with_header("Referrer-Policy", "no-referrer")
      .with_header("Cross-Origin-Opener-Policy", "same-origin")
      .with_header("Cross-Origin-Resource-Policy", "same-origin")
      .with_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

}  // namespace gthulhu::coordinator
