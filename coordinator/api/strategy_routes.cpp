#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "coordinator/api/json_shapes.h"
#include "coordinator/api/route_support.h"
#include "coordinator/api/routes.h"
#include "coordinator/domain/validation.h"
#include "coordinator/rbac/permissions.h"

namespace gthulhu::coordinator {

namespace {

std::string strategy_id_of(const json& body) {
  auto id = opt_string(body, {"strategyId", "strategyID", "StrategyID", "id", "ID"});
  if (!id || id->empty()) fail(400, "Strategy ID is required");
  return *id;
}

void validate(const Strategy& s) {
  auto errors = validate_strategy(s);
  if (!errors.empty()) fail(422, join(errors));
}

// Loads a strategy the caller may change: their own, or anyone's with an unscoped
// grant. Anything else is "not found" (it does not reveal other users' ids).
Strategy load_for_change(ApiContext& ctx, const std::string& id, const Principal& p,
                         const std::string& not_found) {
  if (!is_valid_id(id)) fail(404, not_found);
  auto s = ctx.store.get_strategy(id);
  if (!s.ok()) fail_store(s.error(), not_found);
  if (p.self_only && s->creator_id != p.user->id) fail(404, not_found);
  return std::move(s).value();
}

// (Re)computes the strategy's intents from the current pods and stores them (on the
// leader; another replica counts the matches and the leader stores them).
std::size_t replan(ApiContext& ctx, const Strategy& s) { return unwrap(ctx.control.strategy_saved(s)); }

json strategies_data(const std::vector<Strategy>& strategies) {
  json list = json::array();
  for (const auto& s : strategies) list.push_back(strategy_json(s));
  json data(json::value_t::object);
  data["strategies"] = std::move(list);
  return data;
}

// The serialised `data` of each creator's list, kept while the cache hands out the
// same list (CachingStore::cached_strategies): an unchanged list is rendered once.
class RenderedLists {
 public:
  using List = std::shared_ptr<const std::vector<Strategy>>;
  std::shared_ptr<const std::string> of(const std::string& creator, const List& list) {
    {
      std::lock_guard lock(mu_);
      auto it = by_creator_.find(creator);
      if (it != by_creator_.end() && it->second.source == list) return it->second.data;
    }
    auto data = std::make_shared<const std::string>(http::dump_for_response(strategies_data(*list)));
    std::lock_guard lock(mu_);
    if (by_creator_.size() >= 10000) by_creator_.clear();  // bound memory (creators are few)
    by_creator_[creator] = Entry{list, data};
    return data;
  }

 private:
  struct Entry {
    List source;
    std::shared_ptr<const std::string> data;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_creator_;
};

json strategy_result(const Strategy& s, std::size_t intents) {
  return {{"strategy", strategy_json(s)}, {"intentCount", intents}};
}

}  // namespace

void add_strategy_routes(http::Router& r, ApiContext& ctx) {
  r.post("/api/v1/strategies",
         authed(ctx, perm::kStrategyCreate, [&ctx](http::Request& req, const Principal& p) {
           json body = object_body(req);
           Strategy s;
           parse_strategy(body, s, /*partial=*/false);
           validate(s);
           s.id = new_id();
           s.creator_id = s.updater_id = p.user->id;
           s.created_at = s.updated_at = ctx.clock();
           Strategy created = unwrap(ctx.store.create_strategy(s));
           std::size_t n = 0;
           try {
             n = replan(ctx, created);
           } catch (const ApiError&) {
             // Keep create all-or-nothing from the client's view.
             (void)ctx.store.delete_strategy(created.id);
             throw;
           }
           // A strategy that matches no pod yet is fine: intents appear when pods do.
           return ok(strategy_result(created, n), 201);
         }));

  r.put("/api/v1/strategies",
        authed(ctx, perm::kStrategyUpdate, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          const std::string id = strategy_id_of(body);
          static const std::string kNotFound =
              "strategy not found or you don't have permission to update it";
          for (int attempt = 0;; ++attempt) {
            Strategy s = load_for_change(ctx, id, p, kNotFound);
            parse_strategy(body, s, /*partial=*/true);
            validate(s);
            s.updater_id = p.user->id;
            s.updated_at = ctx.clock();
            auto saved = ctx.store.update_strategy(s);
            if (saved.ok()) {
              const std::size_t n = replan(ctx, *saved);
              return ok(strategy_result(*saved, n));
            }
            if (saved.code() != StoreErrc::kVersionMismatch || attempt == 4) {
              fail_store(saved.error(), kNotFound);
            }
          }
        }));

  auto renderings = std::make_shared<RenderedLists>();
  r.get("/api/v1/strategies/self",
        authed(ctx, perm::kStrategyRead, [&ctx, renderings](http::Request&, const Principal& p) {
          if (ctx.cache == nullptr) return ok(strategies_data(unwrap(ctx.store.list_strategies({p.user->id}))));
          auto list = unwrap(ctx.cache->cached_strategies(p.user->id));
          return ok_serialized(*renderings->of(p.user->id, list));
        }));

  r.del("/api/v1/strategies",
        authed(ctx, perm::kStrategyDelete, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          static const std::string kNotFound =
              "strategy not found or you don't have permission to delete it";
          Strategy s = load_for_change(ctx, strategy_id_of(body), p, kNotFound);
          check(ctx.store.delete_strategy(s.id), kNotFound);
          ctx.control.strategy_deleted(s.id);
          return ok(json::object());
        }));

  r.get("/api/v1/intents/self",
        authed(ctx, perm::kIntentRead, [&ctx](http::Request& req, const Principal& p) {
          IntentFilter f;
          f.creator_id = p.user->id;
          if (auto sid = req.query_param("strategyId")) f.strategy_id = *sid;
          if (auto node = req.query_param("nodeId")) f.node_id = *node;
          json list = json::array();
          for (const auto& i : unwrap(ctx.store.list_intents(f))) list.push_back(intent_json(i));
          json data(json::value_t::object);
          data["intents"] = std::move(list);
          return ok(std::move(data));
        }));

  r.del("/api/v1/intents",
        authed(ctx, perm::kIntentDelete, [&ctx](http::Request& req, const Principal& p) {
          json body = object_body(req);
          auto ids = opt_strings(body, {"intentIds", "intentIDs", "IntentIDs", "ids"});
          if (!ids || ids->empty()) fail(400, "At least one intent ID is required");
          static const std::string kNotFound =
              "one or more intents not found or you don't have permission to delete them";
          for (const auto& id : *ids) {
            if (!is_valid_id(id)) fail(404, kNotFound);
          }
          std::optional<std::string> scope;
          if (p.self_only) scope = p.user->id;
          check(ctx.store.delete_intents(*ids, scope), kNotFound);
          ctx.control.intents_deleted(*ids);
          return ok(json::object());
        }));

  r.get("/api/v1/nodes",
        authed(ctx, perm::kPodPidMappingRead, [&ctx](http::Request&, const Principal&) {
          json list = json::array();
          for (const auto& n : ctx.control.nodes()) list.push_back(node_status_json(n));
          return ok({{"nodes", list}});
        }));
}

}  // namespace gthulhu::coordinator
