#pragma once
// Headers every response of the web UI carries. The Content-Security-Policy allows
// scripts, styles, images and fetches from this origin only: no inline script, no
// eval, no framing, no plug-ins. (The UI is built so that it needs nothing else.)
#include "common/http/request.h"

namespace gthulhu::coordinator {

inline constexpr const char* kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Content-Security-Policy, X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy, Permissions-Policy.
void add_ui_security_headers(http::Response& resp);

}  // namespace gthulhu::coordinator
