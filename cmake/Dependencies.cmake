# Every third-party library comes from a Debian package (see scripts/deps.sh).
# Each is wrapped in one imported target named dep::<name> so the rest of the build
# never repeats include paths or link flags.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

function(gthulhu_pkg name module)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET ${module})
  add_library(dep::${name} ALIAS PkgConfig::${name})
endfunction()

gthulhu_pkg(microhttpd libmicrohttpd)
gthulhu_pkg(gnutls gnutls)
gthulhu_pkg(curl libcurl)
gthulhu_pkg(jwt libjwt)
gthulhu_pkg(inih inih)
gthulhu_pkg(re2 re2)
gthulhu_pkg(argon2 libargon2)
gthulhu_pkg(sqlite3 sqlite3)
gthulhu_pkg(mongoc libmongoc-1.0)
gthulhu_pkg(yaml yaml-0.1)  # kubeconfig files (coordinator/kube)

find_package(OpenSSL REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(prometheus-cpp REQUIRED COMPONENTS core)
find_package(GTest REQUIRED)
