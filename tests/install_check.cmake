# Installs the build into PREFIX and checks that the program, the man page,
# the shell completions and the editor files are there and that the installed program runs.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${result}")
endif()
foreach(file bin/gptq share/man/man1/gptq.1 share/bash-completion/completions/gptq
             share/zsh/site-functions/_gptq share/fish/vendor_completions.d/gptq.fish
             bin/gptq-filter share/gptq/gptq.vim share/doc/gptq/editors.md)
  if(NOT EXISTS ${PREFIX}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
execute_process(COMMAND ${PREFIX}/bin/gptq --version RESULT_VARIABLE result OUTPUT_VARIABLE out)
if(NOT result EQUAL 0 OR NOT out MATCHES "^gptq ")
  message(FATAL_ERROR "installed gptq --version failed: ${result} ${out}")
endif()
