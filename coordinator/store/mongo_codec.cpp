#include "coordinator/store/mongo_codec.h"

#include <cstring>
#include <functional>
#include <string_view>

namespace gthulhu::coordinator::mongo_codec {
namespace {

// ---------------------------------------------------------------- writing

void append_str(bson_t* doc, const char* key, const std::string& s) {
  bson_append_utf8(doc, key, -1, s.data(), static_cast<int>(s.size()));
}

// [ ... ] with keys "0", "1", ... as BSON arrays require.
template <typename T, typename F>
void append_array(bson_t* doc, const char* key, const std::vector<T>& items, F&& each) {
  bson_t arr;
  bson_append_array_begin(doc, key, -1, &arr);
  char buf[16];
  const char* idx = nullptr;
  uint32_t i = 0;
  for (const auto& item : items) {
    bson_uint32_to_string(i++, &idx, buf, sizeof buf);
    each(&arr, idx, item);
  }
  bson_append_array_end(doc, &arr);
}

void append_strings(bson_t* doc, const char* key, const std::vector<std::string>& v) {
  append_array(doc, key, v, [](bson_t* arr, const char* idx, const std::string& s) {
    append_str(arr, idx, s);
  });
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

void append_pairs(bson_t* doc, const char* key, const Pairs& pairs) {
  append_array(doc, key, pairs, [](bson_t* arr, const char* idx, const auto& kv) {
    bson_t sub;
    bson_append_document_begin(arr, idx, -1, &sub);
    append_str(&sub, "key", kv.first);
    append_str(&sub, "value", kv.second);
    bson_append_document_end(arr, &sub);
  });
}

void append_policies(bson_t* doc, const char* key, const std::vector<RolePolicy>& v) {
  append_array(doc, key, v, [](bson_t* arr, const char* idx, const RolePolicy& p) {
    bson_t sub;
    bson_append_document_begin(arr, idx, -1, &sub);
    append_str(&sub, "permission_key", p.permission_key);
    bson_append_bool(&sub, "self", -1, p.self);
    append_str(&sub, "k8s_namespace", p.k8s_namespace);
    append_str(&sub, "policy_namespace", p.policy_namespace);
    bson_append_document_end(arr, &sub);
  });
}

Pairs selector_pairs(const std::vector<LabelSelector>& v) {
  Pairs out;
  out.reserve(v.size());
  for (const auto& s : v) out.emplace_back(s.key, s.value);
  return out;
}

// ---------------------------------------------------------------- reading

const char* type_name(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_DOUBLE: return "double";
    case BSON_TYPE_UTF8: return "string";
    case BSON_TYPE_DOCUMENT: return "document";
    case BSON_TYPE_ARRAY: return "array";
    case BSON_TYPE_OID: return "objectId";
    case BSON_TYPE_BOOL: return "bool";
    case BSON_TYPE_DATE_TIME: return "date";
    case BSON_TYPE_NULL: return "null";
    case BSON_TYPE_INT32: return "int32";
    case BSON_TYPE_INT64: return "int64";
    default: return "other";
  }
}

// Reads fields of one document; the first shape error is kept and every later read
// returns a default, so decoders read straight through and check ok() once.
class Reader {
 public:
  Reader(const bson_t* doc, const char* what) : doc_(doc), what_(what) {}

  bool ok() const { return error_.empty(); }
  StoreError error() const {
    return internal_error(std::string("corrupt ") + what_ + " document: " + error_);
  }

  std::string str(const char* key) {
    bson_iter_t it;
    if (!find(key, &it)) return {};
    if (BSON_ITER_HOLDS_UTF8(&it)) {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&it, &len);
      return std::string(s, len);
    }
    return bad(key, &it), std::string();
  }

  std::string id(const char* key) {
    bson_iter_t it;
    if (!find(key, &it)) return {};
    if (BSON_ITER_HOLDS_OID(&it)) {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&it), hex);
      return std::string(hex, 24);
    }
    if (BSON_ITER_HOLDS_UTF8(&it)) {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&it, &len);
      return std::string(s, len);
    }
    return bad(key, &it), std::string();
  }

  std::int64_t i64(const char* key) {
    bson_iter_t it;
    if (!find(key, &it)) return 0;
    switch (bson_iter_type(&it)) {
      case BSON_TYPE_INT64: return bson_iter_int64(&it);
      case BSON_TYPE_INT32: return bson_iter_int32(&it);
      case BSON_TYPE_DATE_TIME: return bson_iter_date_time(&it);
      case BSON_TYPE_DOUBLE: {
        const double d = bson_iter_double(&it);
        const auto v = static_cast<std::int64_t>(d);
        if (static_cast<double>(v) == d) return v;
        break;
      }
      default: break;
    }
    return bad(key, &it), 0;
  }

  int i32(const char* key) {
    const std::int64_t v = i64(key);
    if (v < INT32_MIN || v > INT32_MAX) {
      if (ok()) error_ = std::string("field '") + key + "' out of int32 range";
      return 0;
    }
    return static_cast<int>(v);
  }

  bool boolean(const char* key) {
    bson_iter_t it;
    if (!find(key, &it)) return false;
    if (BSON_ITER_HOLDS_BOOL(&it)) return bson_iter_bool(&it);
    return bad(key, &it), false;
  }

  std::vector<std::string> strings(const char* key) {
    std::vector<std::string> out;
    each(key, [&](bson_iter_t* el) {
      if (!BSON_ITER_HOLDS_UTF8(el)) return bad(key, el);
      uint32_t len = 0;
      const char* s = bson_iter_utf8(el, &len);
      out.emplace_back(s, len);
    });
    return out;
  }

  // Sub-documents of an array, each read by `fn` with its own Reader.
  void documents(const char* key, const std::function<void(Reader&)>& fn) {
    each(key, [&](bson_iter_t* el) {
      if (!BSON_ITER_HOLDS_DOCUMENT(el)) return bad(key, el);
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_document(el, &len, &data);
      bson_t sub;
      if (!bson_init_static(&sub, data, len)) {
        if (ok()) error_ = std::string("field '") + key + "' holds malformed BSON";
        return;
      }
      Reader r(&sub, what_);
      fn(r);
      if (!r.ok() && ok()) error_ = std::string("in '") + key + "': " + r.error_;
    });
  }

  Pairs pairs(const char* key) {
    Pairs out;
    documents(key, [&](Reader& r) {
      auto k = r.str("key");
      auto v = r.str("value");
      out.emplace_back(std::move(k), std::move(v));
    });
    return out;
  }

 private:
  bool find(const char* key, bson_iter_t* it) {
    if (!ok()) return false;
    if (!bson_iter_init_find(it, doc_, key)) return false;  // missing: default value
    if (BSON_ITER_HOLDS_NULL(it)) return false;
    return true;
  }

  void bad(const char* key, bson_iter_t* it) {
    if (ok()) {
      error_ = std::string("field '") + key + "' has type " + type_name(bson_iter_type(it));
    }
  }

  template <typename F>
  void each(const char* key, F&& fn) {
    bson_iter_t it;
    if (!find(key, &it)) return;
    if (!BSON_ITER_HOLDS_ARRAY(&it)) return bad(key, &it);
    bson_iter_t child;
    if (!bson_iter_recurse(&it, &child)) return bad(key, &it);
    while (ok() && bson_iter_next(&child)) fn(&child);
  }

  const bson_t* doc_;
  const char* what_;
  std::string error_;
};

}  // namespace

// ---------------------------------------------------------------- public helpers

void append_id(bson_t* doc, const char* key, const std::string& id) {
  if (is_valid_id(id)) {
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id.c_str());
    bson_append_oid(doc, key, -1, &oid);
  } else {
    append_str(doc, key, id);
  }
}

void append_id_in(bson_t* doc, const char* key, const std::vector<std::string>& ids) {
  bson_t cond;
  bson_append_document_begin(doc, key, -1, &cond);
  append_array(&cond, "$in", ids, [](bson_t* arr, const char* idx, const std::string& id) {
    append_id(arr, idx, id);
  });
  bson_append_document_end(doc, &cond);
}

void append_time(bson_t* doc, const char* key, UnixMillis t) {
  bson_append_date_time(doc, key, -1, t);
}

void append_string(bson_t* doc, const char* key, const std::string& s) { append_str(doc, key, s); }

// ---------------------------------------------------------------- encode

void encode_user_update(const User& u, bson_t* set) {
  append_str(set, "username", u.username);
  append_str(set, "password_hash", u.password_hash);
  append_strings(set, "roles", u.roles);
  bson_append_int32(set, "status", -1, static_cast<int32_t>(u.status));
  bson_append_int64(set, "token_version", -1, u.token_version);
  append_time(set, "updated_at", u.updated_at);
}

void encode(const User& u, bson_t* out) {
  append_id(out, "_id", u.id);
  encode_user_update(u, out);
  append_str(out, "creator_id", u.creator_id);
  append_time(out, "created_at", u.created_at);
  bson_append_int64(out, "version", -1, u.version);
}

void encode(const RefreshSession& s, bson_t* out) {
  append_id(out, "_id", s.id);
  append_str(out, "user_id", s.user_id);
  append_str(out, "token_hash", s.token_hash);
  append_time(out, "created_at", s.created_at);
  append_time(out, "expires_at", s.expires_at);
  bson_append_bool(out, "used", -1, s.used);
}

void encode_role_update(const Role& r, bson_t* set) {
  append_str(set, "name", r.name);
  append_str(set, "description", r.description);
  append_policies(set, "policies", r.policies);
  append_time(set, "updated_at", r.updated_at);
}

void encode(const Role& r, bson_t* out) {
  append_id(out, "_id", r.id);
  encode_role_update(r, out);
  append_str(out, "creator_id", r.creator_id);
  append_time(out, "created_at", r.created_at);
  bson_append_int64(out, "version", -1, r.version);
}

void encode(const Permission& p, bson_t* out) {
  append_str(out, "_id", p.key);
  append_str(out, "key", p.key);
  append_str(out, "resource", p.resource);
  append_str(out, "action", p.action);
  append_str(out, "description", p.description);
}

void encode_strategy_update(const Strategy& s, bson_t* set) {
  append_str(set, "strategy_namespace", s.strategy_namespace);
  append_pairs(set, "label_selectors", selector_pairs(s.label_selectors));
  append_strings(set, "k8s_namespaces", s.k8s_namespaces);
  append_str(set, "command_regex", s.command_regex);
  bson_append_int32(set, "priority", -1, s.priority);
  bson_append_int64(set, "execution_time", -1, s.execution_time);
  append_str(set, "updater_id", s.updater_id);
  append_time(set, "updated_at", s.updated_at);
}

void encode(const Strategy& s, bson_t* out) {
  append_id(out, "_id", s.id);
  encode_strategy_update(s, out);
  append_str(out, "creator_id", s.creator_id);
  append_time(out, "created_at", s.created_at);
  bson_append_int64(out, "version", -1, s.version);
}

void encode(const Intent& i, bson_t* out) {
  append_id(out, "_id", i.id);
  append_str(out, "strategy_id", i.strategy_id);
  append_str(out, "pod_id", i.pod_id);
  append_str(out, "pod_name", i.pod_name);
  append_str(out, "node_id", i.node_id);
  append_str(out, "k8s_namespace", i.k8s_namespace);
  append_str(out, "command_regex", i.command_regex);
  bson_append_int32(out, "priority", -1, i.priority);
  bson_append_int64(out, "execution_time", -1, i.execution_time);
  append_pairs(out, "pod_labels", Pairs(i.pod_labels.begin(), i.pod_labels.end()));
  bson_append_int32(out, "state", -1, static_cast<int32_t>(i.state));
  append_str(out, "state_reason", i.state_reason);
  append_str(out, "creator_id", i.creator_id);
  append_str(out, "updater_id", i.updater_id);
  append_time(out, "created_at", i.created_at);
  append_time(out, "updated_at", i.updated_at);
  bson_append_int64(out, "version", -1, i.version);
}

// ---------------------------------------------------------------- decode

Result<User> decode_user(const bson_t* doc) {
  Reader r(doc, "user");
  User u;
  u.id = r.id("_id");
  u.username = r.str("username");
  u.password_hash = r.str("password_hash");
  u.roles = r.strings("roles");
  u.status = static_cast<UserStatus>(r.i32("status"));
  u.token_version = r.i64("token_version");
  u.creator_id = r.str("creator_id");
  u.created_at = r.i64("created_at");
  u.updated_at = r.i64("updated_at");
  u.version = r.i64("version");
  if (!r.ok()) return r.error();
  return u;
}

Result<RefreshSession> decode_refresh_session(const bson_t* doc) {
  Reader r(doc, "refresh session");
  RefreshSession s;
  s.id = r.id("_id");
  s.user_id = r.str("user_id");
  s.token_hash = r.str("token_hash");
  s.created_at = r.i64("created_at");
  s.expires_at = r.i64("expires_at");
  s.used = r.boolean("used");
  if (!r.ok()) return r.error();
  return s;
}

Result<Role> decode_role(const bson_t* doc) {
  Reader r(doc, "role");
  Role role;
  role.id = r.id("_id");
  role.name = r.str("name");
  role.description = r.str("description");
  r.documents("policies", [&](Reader& p) {
    RolePolicy policy;
    policy.permission_key = p.str("permission_key");
    policy.self = p.boolean("self");
    policy.k8s_namespace = p.str("k8s_namespace");
    policy.policy_namespace = p.str("policy_namespace");
    role.policies.push_back(std::move(policy));
  });
  role.creator_id = r.str("creator_id");
  role.created_at = r.i64("created_at");
  role.updated_at = r.i64("updated_at");
  role.version = r.i64("version");
  if (!r.ok()) return r.error();
  return role;
}

Result<Permission> decode_permission(const bson_t* doc) {
  Reader r(doc, "permission");
  Permission p;
  p.key = r.str("key");
  p.resource = r.str("resource");
  p.action = r.str("action");
  p.description = r.str("description");
  if (!r.ok()) return r.error();
  return p;
}

Result<Strategy> decode_strategy(const bson_t* doc) {
  Reader r(doc, "strategy");
  Strategy s;
  s.id = r.id("_id");
  s.strategy_namespace = r.str("strategy_namespace");
  for (auto& [k, v] : r.pairs("label_selectors")) s.label_selectors.push_back({k, v});
  s.k8s_namespaces = r.strings("k8s_namespaces");
  s.command_regex = r.str("command_regex");
  s.priority = r.i32("priority");
  s.execution_time = r.i64("execution_time");
  s.creator_id = r.str("creator_id");
  s.updater_id = r.str("updater_id");
  s.created_at = r.i64("created_at");
  s.updated_at = r.i64("updated_at");
  s.version = r.i64("version");
  if (!r.ok()) return r.error();
  return s;
}

Result<Intent> decode_intent(const bson_t* doc) {
  Reader r(doc, "intent");
  Intent i;
  i.id = r.id("_id");
  i.strategy_id = r.str("strategy_id");
  i.pod_id = r.str("pod_id");
  i.pod_name = r.str("pod_name");
  i.node_id = r.str("node_id");
  i.k8s_namespace = r.str("k8s_namespace");
  i.command_regex = r.str("command_regex");
  i.priority = r.i32("priority");
  i.execution_time = r.i64("execution_time");
  for (auto& [k, v] : r.pairs("pod_labels")) i.pod_labels[k] = v;
  i.state = static_cast<IntentState>(r.i32("state"));
  i.state_reason = r.str("state_reason");
  i.creator_id = r.str("creator_id");
  i.updater_id = r.str("updater_id");
  i.created_at = r.i64("created_at");
  i.updated_at = r.i64("updated_at");
  i.version = r.i64("version");
  if (!r.ok()) return r.error();
  return i;
}

}  // namespace gthulhu::coordinator::mongo_codec
