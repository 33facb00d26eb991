" gptq.vim: filter lines through gptq(1) in Vim or Neovim, safely.
"
"   :[range]Gptq [ARGS]        replace the lines with gptq's reply to them
"   :[range]GptqBelow [ARGS]   insert the reply below the lines
"
" ARGS are gptq's arguments as you would type them in a shell, quotes and
" all: :'<,'>Gptq -s "fix the grammar". The range is the current line
" unless given. Unlike :'<,'>!gptq, which puts whatever gptq writes (also its
" error message) in place of the lines whatever its exit status, these run
" gptq with its standard error kept apart and change the buffer only when
" gptq succeeds: on failure the buffer is untouched, gptq's one-line error
" is shown and kept in v:errmsg. One change each, undone with u.
"
" Install: put this file in ~/.vim/plugin/ (Neovim: ~/.config/nvim/plugin/),
" or :source it. g:gptq_command (default "gptq") is the command run, e.g.
" let g:gptq_command = 'gptq -P local'.

if exists('g:loaded_gptq')
  finish
endif
let g:loaded_gptq = 1

let s:save_cpo = &cpo
set cpo&vim

" Runs gptq with lines first..last as its standard input; returns the lines
" of the reply, or v:null after reporting the failure.
function! s:ask(first, last, args) abort
  let err_file = tempname()
  let command = get(g:, 'gptq_command', 'gptq') . ' ' . a:args . ' 2>' . shellescape(err_file)
  " The extra '' gives the last line its newline.
  let reply = systemlist(command, getline(a:first, a:last) + [''])
  let status = v:shell_error
  let errors = filereadable(err_file) ? readfile(err_file) : []
  call delete(err_file)
  " A warning after a reply (exit 0) counts as a failure: a reply cut at the
  " token limit should not replace text. What else gptq writes there on
  " success (--usage, --reasoning, -v) is shown as messages.
  let warnings = filter(copy(errors), 'v:val =~# ''^gptq: warning:''')
  if status == 0 && empty(warnings)
    for line in errors
      echomsg line
    endfor
    return reply
  endif
  " Otherwise gptq's error is its last line.
  let lines = status == 0 ? warnings : filter(copy(errors), 'v:val !~# ''^\s*$''')
  let message = empty(lines) ? 'gptq: exit status ' . status : lines[-1]
  let v:errmsg = message
  echohl ErrorMsg
  echomsg message
  echohl None
  return v:null
endfunction

function! s:replace(first, last, args) abort
  let reply = s:ask(a:first, a:last, a:args)
  if reply is v:null
    return
  endif
  call append(a:last, reply)
  silent execute a:first . ',' . a:last . 'delete _'
  call cursor(a:first, 1)
endfunction

function! s:below(first, last, args) abort
  let reply = s:ask(a:first, a:last, a:args)
  if reply is v:null
    return
  endif
  call append(a:last, reply)
  call cursor(a:last + 1, 1)
endfunction

command! -range -nargs=* Gptq call s:replace(<line1>, <line2>, <q-args>)
command! -range -nargs=* GptqBelow call s:below(<line1>, <line2>, <q-args>)

let &cpo = s:save_cpo
unlet s:save_cpo
