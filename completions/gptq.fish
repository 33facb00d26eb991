# fish completion for gptq(1). Installed in fish/vendor_completions.d; from a
# source tree: set -p fish_complete_path /path/to/completions

# Prints the names `gptq --list-roles` or `--list-profiles` ($argv) prints, for
# the --config FILE on the line if any. No config, or a broken one, gives no
# names and no message.
function __gptq_names
    set -l tokens (commandline -opc)
    set -l config
    for i in (seq 2 (count $tokens))
        switch $tokens[$i]
            case --config
                set config $tokens[(math $i + 1)]
            case '--config=*'
                set config (string replace -- --config= '' $tokens[$i])
        end
    end
    set -q config[1]; and set config --config (string replace -r -- '^~' $HOME $config)
    $tokens[1] $config $argv 2>/dev/null
end

# Prints the kinds --attachments may add to the comma list being typed: the
# ones not in it yet, or none to begin with.
function __gptq_kinds
    set -l typed (string match -r -- '^(?:--attachments=)?(.*,)' (commandline -ct))[2]
    set -q typed[1]; or set typed ''
    for kind in image pdf audio
        string match -q -- "*$kind,*" "$typed"; or echo "$typed$kind"
    end
    test -n "$typed"; or echo none
end

# PROMPT words are free text: no file names unless an option takes a file.
complete -c gptq -f

complete -c gptq -s s -l system -x -d 'system message (the persona)'
complete -c gptq -s r -l role -x -a '(__gptq_names --list-roles)' -d 'use a role from the config file'
complete -c gptq -s f -l file -r -F -d 'add a file (text, image, PDF, audio) to the prompt (- is stdin)'
complete -c gptq -l file-type -x -a 'image/png image/jpeg image/webp image/gif application/pdf audio/wav audio/mpeg text/plain' -d 'the type of the next -f'
complete -c gptq -l detail -x -a 'low high auto' -d 'image detail'
complete -c gptq -l max-attachment -x -d 'largest image, PDF or audio file (K, M, G)'
complete -c gptq -l attachments -x -a '(__gptq_kinds)' -d 'what the server takes'
complete -c gptq -l no-stdin -d 'do not read stdin'
# An optional value, which fish offers only after --dry-run=.
complete -c gptq -l dry-run -a full -d 'print the JSON request body (=full: whole); send nothing'
complete -c gptq -s C -l thread -r -F -d 'continue the conversation in FILE'
complete -c gptq -l thread-tail -x -d 'send only the last N turns of the thread'

complete -c gptq -s m -l model -x -d model
complete -c gptq -s t -l temperature -x -d 'sampling temperature, 0 to 2'
complete -c gptq -l max-tokens -x -d 'longest reply, in tokens'
complete -c gptq -l top-p -x -d 'nucleus sampling, 0 to 1'
complete -c gptq -l seed -x -d 'ask for repeatable sampling'
complete -c gptq -l stop -x -d 'stop at this sequence'
complete -c gptq -s o -l option -x -d 'set any request field (KEY=VALUE)'
complete -c gptq -l json -d 'ask for a JSON object as the reply'
complete -c gptq -l schema -r -F -d 'ask for JSON that follows the JSON Schema in FILE'

complete -c gptq -l no-stream -d 'print the reply when complete'
complete -c gptq -l stream -d 'stream the reply as it arrives'
complete -c gptq -l reasoning -d 'show the reasoning text on stderr'
complete -c gptq -l usage -d 'print the token usage on stderr'
complete -c gptq -l code -d 'print only the code blocks of the reply'
complete -c gptq -l raw -d "print the server's JSON, not the reply text"

complete -c gptq -s L -l each-line -d 'every stdin line is a prompt'
complete -c gptq -l input-jsonl -d 'every stdin line is a JSON request'
complete -c gptq -l jsonl -d 'write each result as a JSON line'
complete -c gptq -s j -l jobs -x -d 'requests in flight, 1 to 64'
complete -c gptq -l fail-fast -d 'stop at the first line that fails'
complete -c gptq -l resume -r -F -d 'skip the lines FILE (a --jsonl output) has done'
complete -c gptq -l emit-batch -r -F -d 'write OpenAI Batch API requests to FILE'
complete -c gptq -l from-batch -r -F -d 'print the results of a Batch API output FILE'
complete -c gptq -l batch-submit -d "send the lines to the provider's Batch API; print the batch id"
complete -c gptq -l batch-wait -x -d 'wait for batch ID, then print its results in order'
complete -c gptq -l batch -d 'submit to the Batch API, then wait for it, in one run'
complete -c gptq -l batch-cancel -x -d 'cancel batch ID'
complete -c gptq -l batch-list -d 'list recent batches with status and counts'

complete -c gptq -l api -x -a 'chat responses' -d 'the API to speak: Chat Completions or Responses'
complete -c gptq -l base-url -x -d 'API base URL'
complete -c gptq -s H -l header -x -d "add a request header ('Name: value')"
complete -c gptq -l key-header -x -d 'send the key in this header'
complete -c gptq -l proxy -x -d 'http://, socks5:// or socks5h:// proxy'
complete -c gptq -l no-proxy -x -d 'hosts to reach directly'
complete -c gptq -l cacert -r -F -d 'also trust the CA certificates in FILE'
complete -c gptq -l connect-timeout -x -d 'seconds to connect and handshake'
complete -c gptq -l idle-timeout -x -d 'longest silence from the server'
complete -c gptq -l timeout -x -d 'limit for the whole request'
complete -c gptq -l retries -x -d 'retries after a rate limit or failure'
complete -c gptq -s v -l verbose -d 'show the connection, attempts and timings'

complete -c gptq -l config -r -F -d 'config file'
complete -c gptq -s P -l profile -x -a '(__gptq_names --list-profiles)' -d 'use a provider profile from the config file'
complete -c gptq -l list-roles -d 'print the roles of the config file'
complete -c gptq -l list-profiles -d 'print the profiles of the config file'
complete -c gptq -l show-config -d 'print each setting and where it comes from; send nothing'
complete -c gptq -s h -l help -d 'show this help'
complete -c gptq -l version -d 'show version information'
