# Prints the candidates zsh's completion system offers for LINE with the
# completion functions of DIR, one per line, and any message of gptq's that
# reached the terminal: runs an interactive zsh in a pseudo-terminal, types
# LINE and a tab, and reads what a wrapper around compadd prints for each
# match instead of offering it.
#
# Usage: zsh -f zsh_complete.zsh DIR LINE
zmodload zsh/zpty || exit 1
dir=$1
line=$2

zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
# Calls that only ask for matches (-O, -A, -D) go through; the others print
# theirs, each on a line of its own (the echo of the typed line has no line
# end). The markers are built from pieces so that the terminal's echo of these
# lines never contains them.
zpty -w z 'compadd() {
  if (( ${@[(I)-[OAD]]} )); then builtin compadd "$@"; return; fi
  local -a hits; builtin compadd -O hits "$@"
  (( $#hits )) && print -rl -- "" "<h""it>"${^hits}
}'
zpty -w z 'comppostfuncs=(print-end); print-end() { print -r -- "<e""nd>" }'
zpty -w -n z "$line"$'\t'
zpty -r z output '*<end>*' || exit 1
zpty -d z
# Matches, and any message of gptq's that reached the terminal.
for l in ${(f)output//$'\r'/}; do
  if [[ $l == '<hit>'* ]]; then
    print -r -- ${l#<hit>}
  elif [[ $l == *'gptq: '* ]]; then
    print -r -- "terminal: ${l#*gptq: }"
  fi
done
exit 0
