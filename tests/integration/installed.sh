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

# installed_unit UNIT BINDIR WHERE [VERIFY_AS]: the classroom's systemd unit template is at
# UNIT, its ExecStart and ExecStop name BINDIR's wapsim (classroom up / down of
# /var/lib/wapsim/%i), it runs as the user wapsim with StateDirectory= and CacheDirectory= wapsim
# and WAPSIM_CACHE there, [Install] lets `systemctl enable wapsim-classroom@NAME` work, and
# systemd-analyze verify reports nothing (skipped without systemd-analyze). VERIFY_AS: a wapsim
# to name instead of BINDIR's in the copy verified (an extracted package's /usr/bin/wapsim is not
# there, and verify checks that the command exists).
installed_unit() {
    i_u=$1 i_bindir=$2 i_where=$3 i_as=${4:-}
    if [ ! -f "$i_u" ]; then
        not_ok "$i_where: the unit template is installed as $i_u"
        return
    fi
    ok "$i_where: the unit template is installed as $i_u"
    check_eq "$i_where: ExecStart= runs $i_bindir/wapsim classroom up /var/lib/wapsim/%i" \
        "$i_bindir/wapsim classroom up /var/lib/wapsim/%i" "$(sed -n 's/^ExecStart=//p' "$i_u")"
    check_eq "$i_where: ExecStop= runs $i_bindir/wapsim classroom down /var/lib/wapsim/%i" \
        "$i_bindir/wapsim classroom down /var/lib/wapsim/%i" "$(sed -n 's/^ExecStop=//p' "$i_u")"
    check_eq "$i_where: it runs as the user wapsim, in StateDirectory= and CacheDirectory= wapsim" \
        "Type=oneshot|RemainAfterExit=yes|User=wapsim|StateDirectory=wapsim|CacheDirectory=wapsim|Environment=WAPSIM_CACHE=/var/cache/wapsim" \
        "$(grep -E '^(Type|RemainAfterExit|User|StateDirectory|CacheDirectory|Environment)=' "$i_u" | tr '\n' '|' | sed 's/|$//')"
    check "$i_where: [Install] WantedBy=multi-user.target (systemctl enable wapsim-classroom@NAME)" \
        grep -qx 'WantedBy=multi-user.target' "$i_u"
    if ! command -v systemd-analyze >/dev/null 2>&1; then
        skip "$i_where: systemd-analyze verify $(basename "$i_u") (no systemd-analyze here)"
        return
    fi
    # systemd 252 verifies a template as an instance of it; --man=no: the Documentation= page
    # is wapsim(1)'s test's business (and a minimal image's dpkg may leave man pages out).
    i_v=$i_u
    if [ -n "$i_as" ]; then
        mkdir -p "$T_TMP/verify" && i_v="$T_TMP/verify/$(basename "$i_u")"
        sed "s|$i_bindir/wapsim |$i_as |" "$i_u" >"$i_v"
    fi
    systemd-analyze verify --man=no "$i_v" >"$T_TMP/verify.out" 2>&1; rc=$?
    check_eq "$i_where: systemd-analyze verify accepts it, with no warning${i_as:+ (naming $i_as)}" "0:" \
        "$rc:$(head -n 3 "$T_TMP/verify.out" | tr '\n' ' ')"
}

# installed_unit_run UNIT W STATE CACHE RUNAS WHERE: what the unit does, by hand, since PID 1
# here may not be systemd: a classroom of two seats made as the documented init does (as RUNAS,
# "" for this user), then the unit's own ExecStart and ExecStop lines run as RUNAS with the
# unit's Environment= and UMask=, /var/lib/wapsim and /var/cache/wapsim read as STATE and CACHE:
# up leaves both seats' processes running (as RUNAS), down leaves none. The hardening options
# cannot be tried without systemd. Skipped while wapsim has no classroom command.
installed_unit_run() {
    i_u=$1 i_w=$2 i_state=$3 i_cache=$4 i_runas=$5 i_where=$6
    "$i_w" classroom --help >/dev/null 2>&1; rc=$?
    if [ "$rc" -ne 0 ] || [ ! -f "$i_u" ]; then
        skip "$i_where: the unit's ExecStart and ExecStop by hand: this wapsim has no classroom command (classroom --help exits $rc)"
        return
    fi
    i_dir="$i_state/unit-test-$$"
    i_sub="s|/var/lib/wapsim/%i|$i_dir|g; s|/var/cache/wapsim|$i_cache|g"
    i_start=$(sed -n 's/^ExecStart=//p' "$i_u" | sed "$i_sub")
    i_stop=$(sed -n 's/^ExecStop=//p' "$i_u" | sed "$i_sub")
    i_env=$(sed -n 's/^Environment=//p' "$i_u" | sed "$i_sub")
    i_umask=$(sed -n 's/^UMask=//p' "$i_u")
    T_LABS="$T_LABS $i_dir/seat01 $i_dir/seat02"
    # as_unit COMMAND...: as RUNAS, in the unit's environment (words: no quoting in these lines).
    as_unit() {
        if [ -n "$i_runas" ]; then
            runuser -u "$i_runas" -- sh -c "umask ${i_umask:-022}; exec env $i_env \"\$@\"" sh "$@"
        else
            sh -c "umask ${i_umask:-022}; exec env $i_env \"\$@\"" sh "$@"
        fi
    }
    who=${i_runas:-$(id -un)}
    check_exit "$i_where: as $who: wapsim classroom init $i_dir --seats 2" 0 as_unit "$i_w" classroom init "$i_dir" --seats 2
    # shellcheck disable=SC2086 # the unit's command line, split as systemd splits it (no quotes in it)
    as_unit $i_start >"$T_TMP/unit-start.out" 2>&1; rc=$?
    check_eq "$i_where: as $who: the unit's ExecStart ($i_start) exits 0" 0 "$rc"
    [ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/unit-start.out" | tail -n 10
    i_bad=""
    for s in seat01 seat02; do
        i_pids=$(lab_pids "$i_dir/$s")
        [ -n "$i_pids" ] || i_bad="$i_bad $s:none"
        for pid in $i_pids; do
            i_owner=$(stat -c %U "/proc/$pid" 2>/dev/null) || continue
            [ "$i_owner" = "$who" ] || i_bad="$i_bad $s:$pid:$i_owner"
        done
    done
    check_eq "$i_where: ... both seats' processes run, as $who" "" "${i_bad# }"
    # shellcheck disable=SC2086
    as_unit $i_stop >"$T_TMP/unit-stop.out" 2>&1; rc=$?
    check_eq "$i_where: as $who: the unit's ExecStop ($i_stop) exits 0" 0 "$rc"
    [ "$rc" -eq 0 ] || sed 's/^/# /' "$T_TMP/unit-stop.out" | tail -n 10
    # down waits for its machines; a loaded machine gets a few seconds more.
    i_left=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        i_left=$(echo $(lab_pids "$i_dir/seat01") $(lab_pids "$i_dir/seat02"))
        [ -z "$i_left" ] && break
        sleep 1
    done
    check_eq "$i_where: ... and no process of either seat is left" "" "$i_left"
    # What is left is stopped by its PIDs (the supervisors with their machines).
    for pid in $i_left; do kill -9 "$pid" 2>/dev/null; done
    rm -rf "$i_dir"
}
