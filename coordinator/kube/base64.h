#pragma once
// Standard base64 (RFC 4648 section 4, with padding), as kubeconfig "*-data" fields hold
// their PEM. Line breaks and spaces inside the text are ignored (some tools wrap it).
#include <string>
#include <string_view>

namespace gthulhu::coordinator::kube {

// False (and `out` unspecified) on a character outside the alphabet or a bad length.
bool base64_decode(std::string_view text, std::string& out);
std::string base64_encode(std::string_view bytes);

}  // namespace gthulhu::coordinator::kube
