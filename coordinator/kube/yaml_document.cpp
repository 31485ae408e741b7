#include "coordinator/kube/yaml_document.h"

#include <yaml.h>

#include <stdexcept>

namespace gthulhu::coordinator::kube {
namespace {

// libyaml's parser and event as RAII, so every exit path frees them.
class Parser {
 public:
  Parser(const std::string& text, std::string origin) : origin_(std::move(origin)) {
    if (yaml_parser_initialize(&parser_) == 0) throw std::runtime_error(origin_ + ": out of memory");
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~Parser() { yaml_parser_delete(&parser_); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // The next event; the caller owns it (Event below).
  yaml_event_t next() {
    yaml_event_t e;
    if (yaml_parser_parse(&parser_, &e) == 0) {
      throw std::runtime_error(where(parser_.problem_mark) + ": " +
                               (parser_.problem ? parser_.problem : "malformed YAML") +
                               (parser_.context ? std::string(" ") + parser_.context : ""));
    }
    return e;
  }
  std::string where(const yaml_mark_t& mark) const {
    return origin_ + ": line " + std::to_string(mark.line + 1) + " column " +
           std::to_string(mark.column + 1);
  }

 private:
  std::string origin_;
  yaml_parser_t parser_{};
};

struct Event {
  yaml_event_t e;
  explicit Event(Parser& p) : e(p.next()) {}
  ~Event() { yaml_event_delete(&e); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};

std::string scalar_text(const yaml_event_t& e) {
  return std::string(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
}

nlohmann::json read_node(Parser& p, const yaml_event_t& first);

nlohmann::json read_mapping(Parser& p) {
  nlohmann::json out = nlohmann::json::object();
  for (;;) {
    Event key(p);
    if (key.e.type == YAML_MAPPING_END_EVENT) return out;
    if (key.e.type != YAML_SCALAR_EVENT) {
      throw std::runtime_error(p.where(key.e.start_mark) + ": a mapping key must be a plain value");
    }
    std::string name = scalar_text(key.e);
    Event value(p);
    out[name] = read_node(p, value.e);
  }
}

nlohmann::json read_sequence(Parser& p) {
  nlohmann::json out = nlohmann::json::array();
  for (;;) {
    Event item(p);
    if (item.e.type == YAML_SEQUENCE_END_EVENT) return out;
    out.push_back(read_node(p, item.e));
  }
}

nlohmann::json read_node(Parser& p, const yaml_event_t& first) {
  switch (first.type) {
    case YAML_SCALAR_EVENT: {
      // A plain "null" / "~" / empty value is YAML's null; quoted text stays text.
      const std::string text = scalar_text(first);
      const bool plain = first.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
      if (plain && (text.empty() || text == "~" || text == "null")) return nullptr;
      return text;
    }
    case YAML_MAPPING_START_EVENT: return read_mapping(p);
    case YAML_SEQUENCE_START_EVENT: return read_sequence(p);
    case YAML_ALIAS_EVENT:
      throw std::runtime_error(p.where(first.start_mark) + ": YAML aliases are not supported");
    default:
      throw std::runtime_error(p.where(first.start_mark) + ": unexpected YAML structure");
  }
}

}  // namespace

nlohmann::json parse_yaml(const std::string& text, const std::string& origin) {
  Parser p(text, origin);
  nlohmann::json doc;  // null when the stream holds no document
  bool have_document = false;
  for (;;) {
    Event e(p);
    switch (e.e.type) {
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        break;
      case YAML_DOCUMENT_START_EVENT:
        if (have_document) {
          throw std::runtime_error(p.where(e.e.start_mark) + ": more than one YAML document");
        }
        have_document = true;
        break;
      case YAML_STREAM_END_EVENT:
        return doc;
      default:
        doc = read_node(p, e.e);
    }
  }
}

}  // namespace gthulhu::coordinator::kube
