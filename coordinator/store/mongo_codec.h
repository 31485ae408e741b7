#pragma once
// BSON <-> domain conversion for the MongoDB store. Document shapes (one collection per
// record type; field names are the C++ member names):
//
//   users             {_id, username, password_hash, roles: [str], status: int32,
//                      token_version: int64, creator_id, created_at: date, updated_at: date,
//                      version: int64}
//   refresh_sessions  {_id, user_id, token_hash, created_at: date, expires_at: date, used: bool}
//   roles             {_id, name, description, policies: [{permission_key, self: bool,
//                      k8s_namespace, policy_namespace}], creator_id, created_at, updated_at,
//                      version}
//   permissions       {_id: key, key, resource, action, description}
//   strategies        {_id, strategy_namespace, label_selectors: [{key, value}],
//                      k8s_namespaces: [str], command_regex, priority: int32,
//                      execution_time: int64, creator_id, updater_id, created_at, updated_at,
//                      version}
//   intents           {_id, strategy_id, pod_id, pod_name, node_id, k8s_namespace,
//                      command_regex, priority: int32, execution_time: int64,
//                      pod_labels: [{key, value}], state: int32, state_reason, creator_id,
//                      updater_id, created_at, updated_at, version}
//
// Ids that are 24 lower-case hex characters (all ids the coordinator makes) are stored as
// ObjectId, anything else as a string; both read back as the same text. Timestamps are
// BSON dates (int64 milliseconds, so every value round-trips, negative ones included).
// Pod labels are an array of pairs, not a sub-document: label keys contain '.', which
// FerretDB rejects in field names (and MongoDB discourages).
#include <bson/bson.h>

#include <string>

#include "coordinator/domain/types.h"
#include "coordinator/store/result.h"

namespace gthulhu::coordinator::mongo_codec {

// An owned, initialised bson_t. Not copyable or movable (bson_t may point into itself).
class Doc {
 public:
  Doc() { bson_init(&b_); }
  ~Doc() { bson_destroy(&b_); }
  Doc(const Doc&) = delete;
  Doc& operator=(const Doc&) = delete;
  bson_t* get() { return &b_; }
  const bson_t* get() const { return &b_; }
  // Re-initialises to an empty document (for reuse as an out-parameter).
  void reset() {
    bson_destroy(&b_);
    bson_init(&b_);
  }

 private:
  bson_t b_;
};

// {key: ObjectId(id)} or {key: "id"}.
void append_id(bson_t* doc, const char* key, const std::string& id);
// {key: {$in: [ids...]}} with the same id encoding.
void append_id_in(bson_t* doc, const char* key, const std::vector<std::string>& ids);
void append_time(bson_t* doc, const char* key, UnixMillis t);
void append_string(bson_t* doc, const char* key, const std::string& s);

// Full documents (with _id). `version` is written as given.
void encode(const User& u, bson_t* out);
void encode(const RefreshSession& s, bson_t* out);
void encode(const Role& r, bson_t* out);
void encode(const Permission& p, bson_t* out);
void encode(const Strategy& s, bson_t* out);
void encode(const Intent& i, bson_t* out);

// The mutable fields of a record as the body of a $set (no _id, no version).
void encode_user_update(const User& u, bson_t* set);
void encode_role_update(const Role& r, bson_t* set);
void encode_strategy_update(const Strategy& s, bson_t* set);

// kInternal with the field name when a document does not have the expected shape.
// Missing fields read as their default value (documents from older schema versions).
Result<User> decode_user(const bson_t* doc);
Result<RefreshSession> decode_refresh_session(const bson_t* doc);
Result<Role> decode_role(const bson_t* doc);
Result<Permission> decode_permission(const bson_t* doc);
Result<Strategy> decode_strategy(const bson_t* doc);
Result<Intent> decode_intent(const bson_t* doc);

}  // namespace gthulhu::coordinator::mongo_codec
