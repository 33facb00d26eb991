# `cmake --build build --target uninstall`: CMake has no uninstall of its
# own, so this removes the files that the last `cmake --install build` wrote,
# as it listed them in MANIFEST (the build directory's install_manifest.txt).
# Directories are left: they may hold other programs' files.
if(NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "no ${MANIFEST}: nothing was installed from this build directory")
endif()
file(STRINGS "${MANIFEST}" files)
foreach(file IN LISTS files)
  if(IS_SYMLINK "${file}" OR EXISTS "${file}")
    message(STATUS "Removing: ${file}")
    file(REMOVE "${file}")
    if(IS_SYMLINK "${file}" OR EXISTS "${file}")
      message(FATAL_ERROR "could not remove ${file}")
    endif()
  else()
    message(STATUS "Already gone: ${file}")
  endif()
endforeach()
