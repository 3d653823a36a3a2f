# trn_embed_json(DIR SYMBOL TYPE STRIP OUTVAR): embeds DIR/*.json into the binary as a generated
# C file defining `const TYPE SYMBOL[]` = {name, text} rows ending with {NULL, NULL}, in file
# name order (names without ".json" when STRIP is ON). Used for the hardware catalog (hw/) and
# the model catalog (models/); regenerated whenever a JSON file changes. OUTVAR receives the
# path of the generated file.
function(trn_embed_json dir symbol type strip outvar)
  file(GLOB json CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${dir}/*.json)
  set(out ${CMAKE_BINARY_DIR}/generated/${dir}_embedded.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSRC_DIR=${CMAKE_SOURCE_DIR}/${dir} -DDIR=${dir}
            -DSYMBOL=${symbol} -DTYPE=${type} -DSTRIP=${strip}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_json_gen.cmake
    DEPENDS ${json} ${CMAKE_SOURCE_DIR}/cmake/embed_json_gen.cmake
    COMMENT "Embedding ${dir}/*.json")
  set(${outvar} ${out} PARENT_SCOPE)
endfunction()
