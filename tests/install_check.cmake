# Installs the build into PREFIX and checks that the program, the man page,
# the shell completions and the editor files are there, that the installed
# program runs, that Vim finds the installed plugin the way the README says,
# and that `uninstall` removes it all again. The install is of the default
# component, so that it writes install_manifest_Unspecified.txt and leaves
# the install_manifest.txt of the user's own `cmake --install` (which
# `uninstall` reads) as it was.
set(manifest ${BUILD_DIR}/install_manifest.txt)
set(before "(none)")
if(EXISTS ${manifest})
  file(READ ${manifest} before)
endif()

file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} --component Unspecified
                RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${result}")
endif()
foreach(file bin/gptq share/man/man1/gptq.1 share/bash-completion/completions/gptq
             share/zsh/site-functions/_gptq share/fish/vendor_completions.d/gptq.fish
             bin/gptq-filter share/vim/vimfiles/plugin/gptq.vim share/nvim/site/plugin/gptq.vim
             share/doc/gptq/editors.md)
  if(NOT EXISTS ${PREFIX}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
execute_process(COMMAND ${PREFIX}/bin/gptq --version RESULT_VARIABLE result OUTPUT_VARIABLE out)
if(NOT result EQUAL 0 OR NOT out MATCHES "^gptq ")
  message(FATAL_ERROR "installed gptq --version failed: ${result} ${out}")
endif()

# The README's line for Vim after an install to /usr/local, with PREFIX for
# /usr/local, in an empty HOME: then :Gptq is a command.
find_program(vim vim)
if(vim)
  set(home ${PREFIX}-home)
  file(REMOVE_RECURSE ${home})
  execute_process(COMMAND env -i HOME=${home} PATH=/usr/bin:/bin sh -c
                          "mkdir -p ~/.vim/plugin && ln -s ${PREFIX}/share/vim/vimfiles/plugin/gptq.vim ~/.vim/plugin/"
                  RESULT_VARIABLE result)
  execute_process(COMMAND env -i HOME=${home} PATH=/usr/bin:/bin TERM=dumb ${vim} -N -u NORC -i NONE -Es
                          -c "if exists(':Gptq') != 2 | cquit | endif" -c "qall!"
                  INPUT_FILE /dev/null RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "Vim has no :Gptq after the README's line: ${result} ${out}")
  endif()
  file(REMOVE_RECURSE ${home})
endif()

if(EXISTS ${manifest})
  file(READ ${manifest} after)
else()
  set(after "(none)")
endif()
if(NOT after STREQUAL before)
  message(FATAL_ERROR "the install into ${PREFIX} changed ${manifest}, which `uninstall` reads")
endif()

# `uninstall`'s script, given this install's manifest, leaves no file.
execute_process(COMMAND ${CMAKE_COMMAND} -DMANIFEST=${BUILD_DIR}/install_manifest_Unspecified.txt
                        -P ${SOURCE_DIR}/cmake/uninstall.cmake
                RESULT_VARIABLE result OUTPUT_QUIET)
file(GLOB_RECURSE left LIST_DIRECTORIES false ${PREFIX}/*)
if(NOT result EQUAL 0 OR left)
  message(FATAL_ERROR "uninstall failed (${result}) or left: ${left}")
endif()
