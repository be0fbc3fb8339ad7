# SPDX-License-Identifier: Apache-2.0
# installed.sh: the checks an installed wapsim must pass, shared by test_install.sh (make
# install PREFIX=...) and test_deb.sh (the Debian package, in /usr or extracted). Sourced
# after lib.sh; not a test of its own (tests/run.sh runs test_*.sh only).
#
# installed_checks ROOT PREFIX WHERE: ROOT/PREFIX is where the files are now (ROOT is "" for
# an installed package, a folder for make install or dpkg -x), PREFIX the prefix they were
# made for (the manual pages name it); WHERE says which install in each check's name. Runs
# from an empty folder, without WAPSIM_SCENARIOS: the installed wapsim must find its own
# components, scenarios and exercises.

# The version, in one place: VERSION.
I_TOP=$(cd "$(dirname "$0")/../.." && pwd)
I_VERSION=$(cat "$I_TOP/VERSION")

installed_checks() {
    i_dir=$1$2 i_where=$3
    i_w="$i_dir/bin/wapsim"
    i_share="$i_dir/share/wapsim/scenarios"
    unset WAPSIM_SCENARIOS
    mkdir -p "$T_TMP/cwd" && cd "$T_TMP/cwd" || return 1

    # ---- the layout
    check "$i_where: bin/wapsim is there and runs" test -x "$i_w"
    for c in portal spf vmm gateway host balancer; do
        [ -x "$i_dir/libexec/wapsim/wapsim-$c" ] || break
    done
    check "$i_where: the six components in libexec/wapsim/" test -x "$i_dir/libexec/wapsim/wapsim-$c"
    n_src=$(ls "$I_TOP"/scenarios/*.scn | wc -l)
    n_ex=$(ls "$I_TOP"/scenarios/exercises/*.scn | wc -l)
    check_eq "$i_where: share/wapsim/scenarios holds every shipped scenario and exercise" "$n_src+$n_ex" \
        "$(ls "$i_share"/*.scn 2>/dev/null | wc -l)+$(ls "$i_share"/exercises/*.scn 2>/dev/null | wc -l)"

    # ---- --version: wapsim's, then the libraries' as loaded at run time
    "$i_w" --version >"$T_TMP/version" 2>&1
    check_eq "$i_where: --version's first line names VERSION" "wapsim $I_VERSION" "$(head -n 1 "$T_TMP/version")"
    check_eq "$i_where: --version names the OpenSSL it runs on (openssl version's)" \
        "$(openssl version | cut -d' ' -f1-2)" "$(sed -n 2p "$T_TMP/version" | cut -d' ' -f1-2)"
    check_eq "$i_where: --version names the SQLite it runs on (sqlite3's)" \
        "SQLite $(sqlite3 --version | cut -d' ' -f1)" "$(sed -n 3p "$T_TMP/version")"
    check "$i_where: --version names libmicrohttpd's version" grep -Eq '^libmicrohttpd [0-9]+\.[0-9]+' "$T_TMP/version"

    # ---- a lab from the installed programs: init, up, a connect, down
    i_lab="$T_TMP/lab-$(echo "$i_where" | tr -c 'a-z0-9\n' '-')"
    T_LABS="$T_LABS $i_lab"
    check_exit "$i_where: lab init" 0 "$i_w" lab init "$i_lab"
    check_exit "$i_where: up (the components found in libexec/wapsim)" 0 "$i_w" --lab "$i_lab" up
    # Each machine's process runs the installed component, not a build tree's.
    i_exes=""
    for pid in $(cat "$i_lab"/run/*.pid 2>/dev/null); do
        i_exes="$i_exes $(readlink "/proc/$pid/exe" 2>/dev/null)"
    done
    case $i_exes in
        *"$i_dir/libexec/wapsim/wapsim-portal"*"$i_dir/libexec/wapsim/wapsim-"*|*"$i_dir/libexec/wapsim/wapsim-"*"$i_dir/libexec/wapsim/wapsim-portal"*)
            ok "$i_where: the lab's machines run the components of $i_dir/libexec/wapsim/" ;;
        *) not_ok "$i_where: the lab's machines run the components of $i_dir/libexec/wapsim/ (they run:$i_exes)" ;;
    esac
    check_exit "$i_where: connect --tenant alice --vm web01 reaches the console" 0 \
        "$i_w" --lab "$i_lab" connect --tenant alice --vm web01
    check_exit "$i_where: down" 0 "$i_w" --lab "$i_lab" down

    # ---- exercise list: every shipped exercise (a scenario with a ticket), found without options
    "$i_w" exercise list --reveal --json >"$T_TMP/ex.json" 2>"$T_TMP/ex.err"
    want=$(cd "$i_share" && grep -l '^ticket' *.scn exercises/*.scn | sort | tr '\n' ' ')
    got=$(json_sql "$T_TMP/ex.json" "SELECT json_extract(value,'$.file') FROM doc, json_each(doc.j)" |
          sed 's|^.*/share/wapsim/scenarios/||' | sort | tr '\n' ' ')
    check_eq "$i_where: exercise list lists every shipped exercise ($(echo $want | wc -w))" "$want" "$got"

    # ---- scenario run without a path: every shipped scenario, from share/wapsim/scenarios
    "$i_w" scenario run -j 2 >"$T_TMP/scn.out" 2>&1; rc=$?
    check_eq "$i_where: scenario run without a path runs the $n_src shipped scenarios, all pass" \
        "0:$n_src passed, 0 failed" "$rc:$(tail -n 1 "$T_TMP/scn.out")"
    [ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/scn.out" | grep -v '^# ok ' | head -n 40

    cd "$I_TOP" || return 1
}

# installed_man PAGE WHERE: man -l renders the page (a file, gzipped or not) without a
# warning, with its NAME and the version from VERSION.
installed_man() {
    i_page=$1 i_where=$2
    if ! command -v man >/dev/null 2>&1; then
        skip "$i_where: man -l $(basename "$i_page") (no man here: make deps installs man-db)"
        return
    fi
    LC_ALL=C MANWIDTH=300 man --warnings -l "$i_page" 2>"$T_TMP/man.err" | col -b >"$T_TMP/man.txt"
    check "$i_where: man -l $(basename "$i_page") renders, with NAME and wapsim $I_VERSION, no warning" sh -c \
        "grep -q '^NAME' '$T_TMP/man.txt' && grep -qF 'wapsim $I_VERSION' '$T_TMP/man.txt' && ! test -s '$T_TMP/man.err'"
}

# installed_man_commands PAGE W WHERE: every command `W --help` lists is in wapsim(1).
installed_man_commands() {
    LC_ALL=C MANWIDTH=300 man -l "$1" 2>/dev/null | col -b >"$T_TMP/man1.txt"
    "$2" --help | sed -n -E 's/^  ([a-z][a-z-]*( [a-z][a-z-]*)?) +[A-Z].*/\1/p' >"$T_TMP/cmds"
    missing=$(while read -r c; do grep -qE "^ +$c( |$)" "$T_TMP/man1.txt" || printf '%s, ' "$c"; done <"$T_TMP/cmds")
    check_eq "$3: wapsim(1) describes every command of wapsim --help ($(wc -l <"$T_TMP/cmds"))" "" "$missing"
}

# installed_completion SCRIPT W WHERE: the completion loads in bash and completes a command,
# a subcommand, and a lab's machine and certificate names.
installed_completion() {
    i_lab=$(ls -d "$T_TMP"/lab-* 2>/dev/null | head -n 1)
    bash -c '
        source "$1" || exit 1
        c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _wapsim; echo "${COMPREPLY[*]}"; }
        c "$2" scen; c "$2" exercise li; c "$2" --lab "$3" logs --machine hv0; c "$2" --lab "$3" cert show vmm-c
    ' sh "$1" "$2" "$i_lab" >"$T_TMP/comp" 2>&1
    check_eq "$3: bash completion completes scen, exercise li, a machine and a certificate" \
        "scenario|list|hv01 hv02|vmm-console" "$(tr '\n' '|' <"$T_TMP/comp" | sed 's/|$//')"
}
