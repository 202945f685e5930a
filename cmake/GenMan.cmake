# Renders a man page template: @OPTIONS@ becomes the option table as the CLI prints it
# (`threadwatch options --man`, from src/base/options.inc), @VERSION@ the version.
#   cmake -DCLI=build/threadwatch -DIN=docs/man/threadwatch.7.in -DOUT=man/threadwatch.7
#         -DVERSION=0.1.0 -P cmake/GenMan.cmake
cmake_minimum_required(VERSION 3.18)
execute_process(COMMAND "${CLI}" options --man OUTPUT_VARIABLE options RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${CLI} options --man failed (${rc})")
endif()
file(READ "${IN}" text)
string(REPLACE "@OPTIONS@" "${options}" text "${text}")
string(REPLACE "@VERSION@" "${VERSION}" text "${text}")
file(WRITE "${OUT}" "${text}")
