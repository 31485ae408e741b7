# BPF build support:
#   dep::libbpf                      static libbpf 1.5 (+ libelf, zlib) with its headers
#   gthulhu_bpf_object(NAME SOURCES a.bpf.c [b.bpf.c ...] [DEPENDS headers...])
#       compiles each source with clang for the BPF target, links them into NAME.bpf.o
#       with `bpftool gen object`, generates NAME.skel.h (struct NAME_bpf) next to it,
#       and defines the INTERFACE target bpf::NAME: link it to get the skeleton header,
#       libbpf and a build-order dependency on the generation.
# The toolchain (bpftool 7.5, libbpf 1.5) comes from scripts/bpf-toolchain.sh; the
# kernel types from vmlinux/vmlinux.h (scripts/gen-vmlinux.sh).
include_guard(GLOBAL)

# The same cache directory as scripts/lib.sh.
if(DEFINED ENV{GTHULHU_CACHE})
  set(_gthulhu_cache "$ENV{GTHULHU_CACHE}")
elseif(DEFINED ENV{XDG_CACHE_HOME})
  set(_gthulhu_cache "$ENV{XDG_CACHE_HOME}/gthulhu")
else()
  set(_gthulhu_cache "$ENV{HOME}/.cache/gthulhu")
endif()
set(GTHULHU_BPF_TOOLCHAIN "${_gthulhu_cache}/bpf-toolchain" CACHE PATH
    "bpftool + static libbpf prefix made by scripts/bpf-toolchain.sh")
set(GTHULHU_VMLINUX_DIR "${PROJECT_SOURCE_DIR}/vmlinux" CACHE PATH
    "Directory holding vmlinux.h of a sched_ext kernel")
# clang 19 specifically: older ones miss BPF features the schedulers use, and the
# unversioned `clang` on bookworm is 14.
find_program(GTHULHU_BPF_CLANG NAMES clang-19 DOC "clang used for the BPF target")
find_program(GTHULHU_BPFTOOL NAMES bpftool PATHS "${GTHULHU_BPF_TOOLCHAIN}/bin"
             NO_DEFAULT_PATH DOC "bpftool 7.5 for skeletons")

set(_bpf_hint "run scripts/bpf-toolchain.sh (or scripts/deps.sh), or configure with -DGTHULHU_BUILD_BPF=OFF")
if(NOT GTHULHU_BPF_CLANG)
  message(FATAL_ERROR "clang-19 not found: install it (scripts/deps.sh) or set GTHULHU_BPF_CLANG")
endif()
if(NOT GTHULHU_BPFTOOL OR NOT EXISTS "${GTHULHU_BPF_TOOLCHAIN}/lib/libbpf.a")
  message(FATAL_ERROR "BPF toolchain missing in ${GTHULHU_BPF_TOOLCHAIN}: ${_bpf_hint}")
endif()
if(NOT EXISTS "${GTHULHU_VMLINUX_DIR}/vmlinux.h")
  message(FATAL_ERROR "${GTHULHU_VMLINUX_DIR}/vmlinux.h missing: run scripts/gen-vmlinux.sh")
endif()

# --- dep::libbpf -----------------------------------------------------------------
# libelf and zlib statically too when their archives exist (bookworm's libelf-dev 0.188
# ships a usable libelf.a), so binaries copied into the VM need fewer libraries.
option(GTHULHU_STATIC_LIBELF "Link libelf and zlib statically into libbpf users" ON)
set(_libelf_names elf)
set(_zlib_names z)
if(GTHULHU_STATIC_LIBELF)
  set(_libelf_names libelf.a elf)
  set(_zlib_names libz.a z)
endif()
find_library(GTHULHU_LIBELF NAMES ${_libelf_names} REQUIRED)
find_library(GTHULHU_ZLIB NAMES ${_zlib_names} REQUIRED)

add_library(dep::libbpf STATIC IMPORTED GLOBAL)
set_target_properties(dep::libbpf PROPERTIES
  IMPORTED_LOCATION "${GTHULHU_BPF_TOOLCHAIN}/lib/libbpf.a"
  # Imported include dirs are SYSTEM: libbpf's headers do not have to pass -Werror.
  INTERFACE_INCLUDE_DIRECTORIES "${GTHULHU_BPF_TOOLCHAIN}/include"
  INTERFACE_LINK_LIBRARIES "${GTHULHU_LIBELF};${GTHULHU_ZLIB}")

# --- BPF objects and skeletons ---------------------------------------------------
# -fms-extensions: the 7.3 BTF has anonymous tagged struct members (`struct foo;` inside
#   a struct) that standard C drops ("declaration does not declare anything"), losing
#   their fields; -Wno-microsoft-anon-tag then silences the note for each of them.
# -mcpu=v3: 32-bit jumps and ALU ops, supported by every sched_ext kernel (6.12+).
# Additions from the command line go into GTHULHU_BPF_EXTRA_CFLAGS (e.g. -DGTHULHU_BPF_EXTRA_CFLAGS=-DDEBUG).
set(GTHULHU_BPF_EXTRA_CFLAGS "" CACHE STRING "Extra flags for clang when compiling BPF programs")

# Flags are computed where they are used: this file is included once (include_guard),
# so a variable set here would not be seen from sibling directories (tests/vm).
function(_gthulhu_bpf_cflags out)
  set(flags
    -target bpf -mcpu=v3 -O2 -g -D__TARGET_ARCH_x86
    -fms-extensions -Wno-microsoft-anon-tag
    -Wall -Wno-compare-distinct-pointer-types)
  if(GTHULHU_WERROR)
    list(APPEND flags -Werror)
  endif()
  list(APPEND flags ${GTHULHU_BPF_EXTRA_CFLAGS})
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

function(gthulhu_bpf_object name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEPENDS")
  _gthulhu_bpf_cflags(GTHULHU_BPF_CFLAGS)
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "gthulhu_bpf_object(${name}): no SOURCES")
  endif()
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}")
  file(MAKE_DIRECTORY "${out_dir}/${name}.objs")
  set(objects)
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE)
    get_filename_component(file "${src}" NAME)
    set(obj "${out_dir}/${name}.objs/${file}.o")
    # Header dependencies come from clang's depfile, so editing a shared header rebuilds.
    add_custom_command(OUTPUT "${obj}"
      COMMAND "${GTHULHU_BPF_CLANG}" ${GTHULHU_BPF_CFLAGS}
              -I "${GTHULHU_VMLINUX_DIR}" -I "${GTHULHU_BPF_TOOLCHAIN}/include"
              -I "${CMAKE_CURRENT_SOURCE_DIR}"
              -MD -MF "${obj}.d" -c "${src}" -o "${obj}"
      DEPENDS "${src}" ${arg_DEPENDS}
      DEPFILE "${obj}.d"
      COMMENT "BPF ${name}: compiling ${file}"
      VERBATIM)
    list(APPEND objects "${obj}")
  endforeach()

  # `gen object` links several objects into one and strips DWARF (keeping BTF), so the
  # skeleton embeds a small object. Write to a temporary and rename: an interrupted
  # run must not leave a truncated skeleton that looks up to date.
  set(linked "${out_dir}/${name}.bpf.o")
  set(skel "${out_dir}/${name}.skel.h")
  add_custom_command(OUTPUT "${linked}" "${skel}"
    COMMAND "${GTHULHU_BPFTOOL}" gen object "${linked}" ${objects}
    COMMAND sh -c "\"$1\" gen skeleton \"$2\" name \"$3\" > \"$4.tmp\" && mv \"$4.tmp\" \"$4\""
            sh "${GTHULHU_BPFTOOL}" "${linked}" "${name}_bpf" "${skel}"
    DEPENDS ${objects} "${GTHULHU_BPFTOOL}"
    COMMENT "BPF ${name}: linking and generating ${name}.skel.h"
    VERBATIM)

  add_custom_target(${name}_bpf_skel DEPENDS "${skel}")
  add_library(${name}_bpf INTERFACE)
  add_library(bpf::${name} ALIAS ${name}_bpf)
  add_dependencies(${name}_bpf ${name}_bpf_skel)
  # SYSTEM: generated code does not have to pass the project's -Wextra -Werror.
  target_include_directories(${name}_bpf SYSTEM INTERFACE "${out_dir}")
  target_link_libraries(${name}_bpf INTERFACE dep::libbpf)
  set_target_properties(${name}_bpf PROPERTIES
    BPF_OBJECT "${linked}" BPF_SKELETON "${skel}")
endfunction()
