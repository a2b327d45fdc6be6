# Writes OUT, the built-in cost tables as C initializers, from the .cfg files in DIR (NAMES:
# the tables, in order), so that the binary needs no file at run time and cannot drift from
# config/costs/. Run by the build (CMakeLists.txt) whenever a table changes.
set(text "/* Generated from config/costs/NAME.cfg by src/keys/cost_tables.cmake: do not edit. */\n")
string(REPLACE "," ";" names "${NAMES}")
foreach(name ${names})
    file(READ "${DIR}/${name}.cfg" content)
    string(REPLACE "\\" "\\\\" content "${content}")
    string(REPLACE "\"" "\\\"" content "${content}")
    string(REPLACE "\n" "\\n\"\n    \"" content "${content}")
    string(APPEND text "{\"${name}\",\n    \"${content}\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
