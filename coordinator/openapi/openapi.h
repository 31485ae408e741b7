#pragma once
// The OpenAPI 3.0 description of the coordinator's REST API, built in code next to the
// routes, served at GET /swagger/doc.json, and rendered as a self-contained HTML page
// at GET /swagger/ (no external scripts or styles: the page must work offline).
// tests/unit/coordinator_openapi_test.cpp checks that the document and the Router
// list exactly the same (method, path) pairs.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/http/router.h"

namespace gthulhu::coordinator {

nlohmann::json openapi_document();

// Every (METHOD, router pattern) the document describes; OpenAPI "{param}" segments
// are turned back into ":param".
std::vector<std::pair<std::string, std::string>> documented_routes(const nlohmann::json& doc);

// A readable HTML page of the document.
std::string render_openapi_html(const nlohmann::json& doc);

// GET /swagger/ and GET /swagger/doc.json.
void add_openapi_routes(http::Router& r);

}  // namespace gthulhu::coordinator
