# bash completion for gptq(1)                              -*- shell-script -*-
# Needs bash-completion. Installed as bash-completion/completions/gptq; from a
# source tree: source completions/gptq.bash

# Adds to COMPREPLY the names `gptq --list-roles` or `--list-profiles` ($1)
# prints that start with $cur, for the --config FILE on the line if any. No
# config, or a broken one, gives no names and no message.
_gptq_names()
{
    local i name file config=()
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --config) file=${words[i + 1]} ;;
            --config=*) file=${words[i]#--config=} ;;
            *) continue ;;
        esac
        config=(--config "${file/#\~/$HOME}")
    done
    # Read line by line, not through compgen -W, which would expand $(...)
    # in a name.
    while IFS= read -r name; do
        [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
    done < <("${words[0]}" "${config[@]}" "$1" 2>/dev/null)
}

_gptq()
{
    local cur prev words cword split
    _init_completion -s || return

    case $prev in
        -f | --file | -C | --thread | --schema | --config | --cacert | --resume | --emit-batch | --from-batch)
            _filedir
            return
            ;;
        -r | --role)
            _gptq_names --list-roles
            return
            ;;
        -P | --profile)
            _gptq_names --list-profiles
            return
            ;;
        --api)
            COMPREPLY=($(compgen -W 'chat responses' -- "$cur"))
            return
            ;;
        --file-type)
            COMPREPLY=($(compgen -W 'image/png image/jpeg image/webp image/gif application/pdf audio/wav
                audio/mpeg text/plain' -- "$cur"))
            return
            ;;
        --detail)
            COMPREPLY=($(compgen -W 'low high auto' -- "$cur"))
            return
            ;;
        --attachments)
            # A comma list: the kinds not yet in it, after what is typed.
            local typed= kind
            [[ $cur == *,* ]] && typed=${cur%,*},
            for kind in image pdf audio; do
                [[ ,$typed == *,$kind,* || $kind != "${cur##*,}"* ]] || COMPREPLY+=("$typed$kind")
            done
            [[ $typed || none != "$cur"* ]] || COMPREPLY+=(none)
            return
            ;;
        --dry-run)
            # Its one value, only in --dry-run=full; else the next word is
            # free.
            if $split; then
                COMPREPLY=($(compgen -W 'full' -- "$cur"))
                return
            fi
            ;;
        # Free text and numbers: nothing to offer.
        -s | --system | -m | --model | -t | --temperature | --max-tokens | --top-p | --seed | --stop | \
            -o | --option | -j | --jobs | --base-url | -H | --header | --key-header | --proxy | \
            --no-proxy | --connect-timeout | --idle-timeout | --timeout | --retries | --thread-tail | \
            --max-attachment | --batch-wait | --batch-cancel)
            return
            ;;
    esac
    $split && return

    # PROMPT words are free text too: only options are completed.
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-s --system -r --role -f --file --file-type --detail --max-attachment
            --attachments --no-stdin --dry-run --dry-run=full -C --thread --thread-tail
            -m --model -t --temperature --max-tokens --top-p --seed --stop -o --option --json --schema
            --no-stream --stream --reasoning --usage --code --raw
            -L --each-line --input-jsonl --jsonl -j --jobs --fail-fast --resume --emit-batch --from-batch
            --batch-submit --batch-wait --batch --batch-cancel --batch-list
            --api --base-url -H --header --key-header --proxy --no-proxy --cacert --connect-timeout
            --idle-timeout --timeout --retries -v --verbose
            --config -P --profile --list-roles --list-profiles --show-config -h --help --version' -- "$cur"))
    fi
} &&
    complete -F _gptq gptq

# ex: filetype=sh
