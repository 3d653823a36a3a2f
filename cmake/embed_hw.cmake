# Embeds hw/*.json into the binary as a generated C file: the catalog the program runs on
# when no --hw file is given. Regenerated whenever a JSON file changes.
file(GLOB TRN_HW_JSON CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/hw/*.json)
set(TRN_HW_EMBED_C ${CMAKE_BINARY_DIR}/generated/hw_embedded.c)
add_custom_command(
  OUTPUT ${TRN_HW_EMBED_C}
  COMMAND ${CMAKE_COMMAND} -DOUT=${TRN_HW_EMBED_C} -DSRC_DIR=${CMAKE_SOURCE_DIR}/hw
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_hw_gen.cmake
  DEPENDS ${TRN_HW_JSON} ${CMAKE_SOURCE_DIR}/cmake/embed_hw_gen.cmake
  COMMENT "Embedding the hardware catalog hw/*.json")
