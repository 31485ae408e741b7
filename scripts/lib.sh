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

# The Debian archive URI this machine's own apt configuration uses, so private sources
# for other suites go through the same mirror or proxy (no mirror host is written in
# this repository). Reads /etc/apt/sources.list and sources.list.d/*.list (one-line
# format) and sources.list.d/*.sources (deb822), and picks the first enabled entry for
# the system's own codename (or its -updates/-backports), never -security.
# GTHULHU_DEBIAN_MIRROR overrides it; GTHULHU_APT_ETC (default /etc/apt) is for tests.
debian_mirror() {
  if [[ -n ${GTHULHU_DEBIAN_MIRROR:-} ]]; then echo "${GTHULHU_DEBIAN_MIRROR%/}"; return; fi
  local etc=${GTHULHU_APT_ETC:-/etc/apt} codename=${GTHULHU_CODENAME:-}
  if [[ -z $codename ]]; then
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  fi
  [[ -n $codename ]] || die "cannot tell this system's Debian codename (/etc/os-release)"
  local files=() f
  [[ -f $etc/sources.list ]] && files+=("$etc/sources.list")
  for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [[ -f $f ]] && files+=("$f")
  done
  local uri
  uri=$(awk -v want="$codename" '
    function suite_ok(s) { return s == want || s == want "-updates" || s == want "-backports" }
    function flush(   n, u, s, i, j) {
      if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
        n = split(suites, s, " ")
        split(uris, u, " ")
        for (i = 1; i <= n; i++) if (suite_ok(s[i])) { print u[1]; found = 1; exit }
      }
      types = ""; uris = ""; suites = ""; enabled = ""
    }
    FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
    /^[ \t]*#/ { next }
    deb822 && /^[ \t]*$/ { flush(); next }
    deb822 {
      key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^[ \t]+/, "")
      if (key == "types") types = $0
      else if (key == "uris") uris = $0
      else if (key == "suites") suites = $0
      else if (key == "enabled") enabled = tolower($0)
      next
    }
    $1 == "deb" {
      i = 2
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (suite_ok($(i + 1))) { print $i; found = 1; exit }
    }
    END { if (deb822 && !found) flush() }
  ' "${files[@]}" /dev/null)
  [[ -n $uri ]] || die "no Debian source for '$codename' in $etc/sources.list or sources.list.d: set GTHULHU_DEBIAN_MIRROR"
  echo "${uri%/}"
}

# One sources.list line for another suite through this machine's mirror.
# Usage: debian_source <deb|deb-src> <suite> [components, default main]
debian_source() {
  local mirror; mirror=$(debian_mirror) || exit 1
  echo "$1 $mirror $2 ${3:-main}"
}

# A test tool built once with this machine's Go toolchain into $GTHULHU_CACHE/bin.
# Usage: go_build_cached NAME VERSION WHAT BUILD_FN [CHECK_ARGS...]
# Done already (the binary and the stamp .NAME-VERSION): returns at once, so a second
# run builds nothing. No go: logs that WHAT will skip. Else runs `BUILD_FN WORK OUT`
# under `set -e` in a subshell (WORK: a scratch directory removed afterwards; the
# function writes the binary to OUT); a failed build logs that WHAT will skip. The new
# binary must run with CHECK_ARGS (e.g. --version) before it replaces the cached one.
go_build_cached() {
  local name=$1 version=$2 what=$3 build=$4
  shift 4
  local bin="$GTHULHU_CACHE/bin/$name" stamp="$GTHULHU_CACHE/bin/.$name-$version" work status
  [[ -x $bin && -e $stamp ]] && return 0
  command -v go >/dev/null || { log "go not found: $what will skip"; return 0; }
  log "building $name $version (once; cached in $GTHULHU_CACHE/bin)"
  mkdir -p "$GTHULHU_CACHE/bin"
  work=$(mktemp -d)
  # Outside a condition, so that set -e holds inside the build function.
  set +e
  (set -e; "$build" "$work" "$work/$name.out")
  status=$?
  set -e
  if ((status != 0)); then
    chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
    log "building $name $version failed: $what will skip"
    return 0
  fi
  "$work/$name.out" "$@" >/dev/null 2>&1 || {
    chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
    die "the $name build does not start: $name $* failed"; }
  mv "$work/$name.out" "$bin"
  touch "$stamp"
  chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"
  log "$name $version ready in $GTHULHU_CACHE/bin"
}
