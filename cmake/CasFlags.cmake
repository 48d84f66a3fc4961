# CasFlags.cmake - compiler and linker flags for every cas target (STYLE.md §4).
include(CheckCCompilerFlag)
include(CheckPIESupported)

option(CAS_WERROR "Treat warnings as errors (CI and dev)" OFF)
option(CAS_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
option(CAS_FUZZ "Build libFuzzer targets (clang only)" OFF)

set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
check_pie_supported()

add_compile_definitions(_GNU_SOURCE)

set(CAS_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
    -Wcast-qual -Wold-style-definition -Wpointer-arith -Wwrite-strings -Wundef -Wvla
    -Wimplicit-fallthrough)
foreach(flag -Wduplicated-cond -Wduplicated-branches -Wlogical-op)
    string(MAKE_C_IDENTIFIER "HAVE${flag}" var)
    check_c_compiler_flag(${flag} ${var})
    if(${var})
        list(APPEND CAS_WARNINGS ${flag})
    endif()
endforeach()
if(CAS_WERROR)
    list(APPEND CAS_WARNINGS -Werror)
endif()

# -Wconversion only for lib/ and src/ (cas_strict_warnings); tests, fuzz and bench get the rest.
set(CAS_STRICT_WARNINGS -Wconversion)

set(CAS_HARDENING -fstack-protector-strong -fstack-clash-protection)
check_c_compiler_flag(-fcf-protection=full HAVE_CF_PROTECTION)
if(HAVE_CF_PROTECTION)
    list(APPEND CAS_HARDENING -fcf-protection=full)
endif()

if(CAS_SANITIZE OR CAS_FUZZ)
    set(CAS_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    add_compile_options(${CAS_SAN_FLAGS} -O1 -g)
    add_link_options(${CAS_SAN_FLAGS})
    if(CAS_FUZZ)
        # Coverage for libFuzzer in every library, not only in the harness: without it a target
        # sees a handful of edges and fuzzes blind.
        add_compile_options(-fsanitize=fuzzer-no-link)
    endif()
else()
    # _FORTIFY_SOURCE needs the optimiser; Debian 12's glibc knows level 3.
    if(CMAKE_BUILD_TYPE MATCHES "Rel")
        add_compile_definitions(_FORTIFY_SOURCE=3)
        check_c_compiler_flag(-ftrivial-auto-var-init=zero HAVE_AUTO_VAR_INIT)
        if(HAVE_AUTO_VAR_INIT)
            list(APPEND CAS_HARDENING -ftrivial-auto-var-init=zero)
        endif()
    endif()
endif()

add_compile_options(${CAS_WARNINGS} ${CAS_HARDENING})
add_link_options(-Wl,-z,relro,-z,now,-z,noexecstack,--as-needed)

# cas_strict(target): the extra warnings for code in lib/ and src/.
function(cas_strict target)
    target_compile_options(${target} PRIVATE ${CAS_STRICT_WARNINGS})
endfunction()
