# SPDX-License-Identifier: Apache-2.0
# bash completion for wapsim: commands and subcommands (from `wapsim --help`), each command's
# options (from its usage line), machine names (`wapsim status --json`), certificate names
# (`wapsim cert list --json`) and scenario files (*.scn). The lab is the command line's
# --lab DIR, else $WAPSIM_LAB, else ./lab, as wapsim reads it. Needs no bash-completion
# helper functions: it loads in a plain bash too.

# The wapsim being completed (the word the user typed first: a path, or from PATH).
_wapsim_bin()
{
    local w=${COMP_WORDS[0]}
    [[ $w == */* ]] && w=${w/#\~/$HOME}
    printf '%s' "${w:-wapsim}"
}

# The "name" values of a --json listing, one per line.
_wapsim_names()
{
    sed -n 's/^[[:space:]]*"name":[[:space:]]*"\([^"]*\)".*/\1/p'
}

_wapsim()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local bin lab=() i=1 words=()
    bin=$(_wapsim_bin)
    # Global options before the command: --lab DIR.
    while (( i < COMP_CWORD )); do
        case ${COMP_WORDS[i]} in
            --lab) lab=(--lab "${COMP_WORDS[i+1]}"); ((i += 2)) ;;
            --lab=*) lab=(--lab "${COMP_WORDS[i]#--lab=}"); ((i++)) ;;
            -*) ((i++)) ;;
            *) break ;;
        esac
    done
    if [[ $prev == --lab ]]; then
        COMPREPLY=($(compgen -d -- "$cur"))
        return
    fi
    # The command's words so far (a group and its subcommand, or one word).
    local j
    for ((j = i; j < COMP_CWORD; j++)); do words+=("${COMP_WORDS[j]}"); done
    local cmds
    cmds=$("$bin" --help 2>/dev/null | sed -n -E 's/^  ([a-z][a-z-]*( [a-z][a-z-]*)?) +[A-Z].*/\1/p')
    if (( ${#words[@]} == 0 )); then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--lab --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(printf '%s\n' "$cmds" | cut -d' ' -f1 | sort -u)" -- "$cur"))
        fi
        return
    fi
    local cmd=${words[0]}
    if (( ${#words[@]} == 1 )) && printf '%s\n' "$cmds" | grep -q "^$cmd "; then
        COMPREPLY=($(compgen -W "$(printf '%s\n' "$cmds" | sed -n "s/^$cmd //p")" -- "$cur"))
        return
    fi
    printf '%s\n' "$cmds" | grep -q "^$cmd " && cmd="$cmd ${words[1]}"

    case $prev in
        --machine|--members)
            COMPREPLY=($(compgen -W "$("$bin" "${lab[@]}" status --json 2>/dev/null | _wapsim_names)" -- "$cur"))
            return ;;
        --ssl-cert|--gateway-cert|--hyperv-cert|--rdp-cert|--cert)
            COMPREPLY=($(compgen -W "$("$bin" "${lab[@]}" cert list --json 2>/dev/null | _wapsim_names | sort -u)" -- "$cur"))
            return ;;
        --scenario)
            COMPREPLY=($(compgen -f -X '!*.scn' -- "$cur") $(compgen -d -- "$cur"))
            return ;;
        --catalogue|--out|--rdp|--save-rdp|--screenshot|--junit|--from|--pfx)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --store) COMPREPLY=($(compgen -W "My Root" -- "$cur")); return ;;
        --role) COMPREPLY=($(compgen -W "vmm gateway host" -- "$cur")); return ;;
        --mode) COMPREPLY=($(compgen -W "tcp tls-offload" -- "$cur")); return ;;
        --affinity) COMPREPLY=($(compgen -W "none source-ip" -- "$cur")); return ;;
        --transport) COMPREPLY=($(compgen -W "websocket legacy" -- "$cur")); return ;;
        --level) COMPREPLY=($(compgen -W "1 2 3" -- "$cur")); return ;;
    esac
    if [[ $cur == -* ]]; then
        local usage
        usage=$("$bin" $cmd --help 2>/dev/null | sed -n '1,/^$/p')
        COMPREPLY=($(compgen -W "$(printf '%s\n' "$usage" | grep -o -- '--[a-z][a-z-]*' | sort -u) --help" -- "$cur"))
        return
    fi
    # Positional arguments: what each command's usage line names.
    case $cmd in
        "scenario run"|"scenario check"|"scenario break")
            COMPREPLY=($(compgen -f -X '!*.scn' -- "$cur") $(compgen -d -- "$cur")) ;;
        "cert show"|"cert export"|"cert import"|"cert remove"|"cert grant")
            COMPREPLY=($(compgen -W "$("$bin" "${lab[@]}" cert list --json 2>/dev/null | _wapsim_names | sort -u)" -- "$cur")) ;;
        "host set"|"service restart"|"service stop"|"service start"|"clock skew"|"dns show"|"dns set"|\
        "vmm refresh-host"|"fabric remove-gateway"|"fabric set-balancer"|"fabric remove-balancer")
            local extra=
            [[ $cmd == service* ]] && extra=all
            COMPREPLY=($(compgen -W "$("$bin" "${lab[@]}" status --json 2>/dev/null | _wapsim_names) $extra" -- "$cur")) ;;
        "lab init"|"lab export"|"cert import-file"|"cert check"|"rdp-verify")
            COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _wapsim wapsim
