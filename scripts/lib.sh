# Shared helpers for the scripts in this folder (sourced, not run).
# The cache lives outside the work tree so a fresh clone reuses downloads and builds.
GTHULHU_CACHE=${GTHULHU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gthulhu}
mkdir -p "$GTHULHU_CACHE"
log() { printf '[deps] %s\n' "$*" >&2; }
die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }
need_root() { [[ $(id -u) == 0 ]] || die "root is needed to install packages (run: sudo $0)"; }

# A private apt configuration, so fetching packages from other Debian suites never
# touches the system's sources. Usage: private_apt <name> <sources.list lines...>
private_apt() {
  local name=$1; shift
  local d="$GTHULHU_CACHE/apt-$name"
  mkdir -p "$d/lists/partial" "$d/archives/partial"
  printf '%s\n' "$@" > "$d/sources.list.new"
  if ! cmp -s "$d/sources.list.new" "$d/sources.list" || [[ ! -e "$d/updated" ]]; then
    mv "$d/sources.list.new" "$d/sources.list"
    apt-get -q $(private_apt_flags "$name") update >&2
    touch "$d/updated"
  else
    rm -f "$d/sources.list.new"
  fi
}
private_apt_flags() {
  local d="$GTHULHU_CACHE/apt-$1"
  echo "-o Dir::Etc::sourcelist=$d/sources.list -o Dir::Etc::sourceparts=/nonexistent" \
       "-o Dir::State::Lists=$d/lists -o Dir::Cache::archives=$d/archives" \
       "-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root"
}
