# Hostile model files, state dicts, JSON parameters/presets and partial evaluation results
# (issue 14; Documentation/HostileInput.md). One CTest per row:
#
#   nsa_hostile_model_case(<name> <input kind> <exit code> <message fragment> <peak RSS MB>
#                          <program target> <arguments...>)
#
# hostile_models_and_json.py makes the input (from Data/Models/brain-mri-2d.pt for models,
# with Python's PyTorch), runs the program with @INPUT@, @IMAGE@ (a small valid image) and
# @OUT@ (an empty folder) substituted, and checks the exit code, the message, that no stack
# dump or huge value reaches the user, that nothing is written under @OUT@, that the inputs
# are unchanged, and the peak resident memory.
find_program(NSA_HOSTILE_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH) # Debian's, with python3-torch
find_program(NSA_HOSTILE_PYTHON3 python3)

function(nsa_hostile_model_case name kind code fragment rss program)
  if(NOT TARGET ${program} OR NOT NSA_HOSTILE_PYTHON3)
    return()
  endif()
  add_test(NAME HostileInput.${name}
    COMMAND "${NSA_HOSTILE_PYTHON3}" "${CMAKE_CURRENT_LIST_DIR}/hostile_models_and_json.py"
      --input ${kind} --work "${NSA_TEST_OUTPUT_DIR}/Hostile/${name}" --exit ${code} --message "${fragment}"
      --max-rss-mb ${rss} -- $<TARGET_FILE:${program}> ${ARGN})
  set_tests_properties(HostileInput.${name} PROPERTIES LABELS "HostileInput" TIMEOUT 300)
endfunction()

# --- NSA model files (NSAPredict --model, LibTorch after the archive checks) -----------------
set(predict NSAPredict @INPUT@ @IMAGE@ @OUT@/map.nii.gz)
nsa_hostile_model_case(ModelConv1Kernel6x7 model_conv6x7 1
  "tensor 'conv1.weight' has shape [16, 1, 6, 7], the network expects [16, 1, 7, 7]" 600 ${predict})
nsa_hostile_model_case(ModelDoubleWeights model_double 1
  "tensor 'conv1.weight' holds Double values, the network expects Float" 600 ${predict})
# Width 4 over width-0.25 weights: refused from the shapes before the 740 MB network is built.
nsa_hostile_model_case(ModelDescriptionWidth4 model_width4 1
  "weights do not fit the described network: tensor 'bn1.bias' has shape [16], the network expects [256]" 450 ${predict})
nsa_hostile_model_case(ModelDescriptionNetworkNested model_nested_network 1
  "configuration: JSON nested deeper than 256 levels at key 'network' (limit)" 600 ${predict})
nsa_hostile_model_case(ModelDescriptionHistoryNested model_nested_history 1
  "configuration: JSON nested deeper than 256 levels at key 'history' (limit)" 600 ${predict})
nsa_hostile_model_case(ModelDescriptionDuplicateKey model_duplicate_key 1
  "configuration: key 'seed' appears twice" 600 ${predict})
# An offset outside the storage: LibTorch's loader accepts it, the forward pass would read out
# of bounds.
nsa_hostile_model_case(ModelStorageOffsetOutside model_storage_offset 1
  "tensor 'conv1.weight' reaches outside its storage (offset 1000000, shape [16, 1, 7, 7], storage of 784 elements)"
  600 ${predict})
nsa_hostile_model_case(ModelStorageCrc model_crc 1 "/data/0': CRC-32 is" 600 ${predict})
nsa_hostile_model_case(ModelTruncated model_truncated 1 "model_truncated.pt': not a zip archive" 600 ${predict})
nsa_hostile_model_case(ModelPickleInflates256MiB model_pickle_256mib 1
  "data.pkl' holds 268435460 bytes (limit 67108864" 450 ${predict})
nsa_hostile_model_case(ModelPickle5MillionLists model_empty_lists 1 "data.pkl: more than 500000 objects (limit)" 450 ${predict})
nsa_hostile_model_case(ModelPickleNestedTuplePop model_nested_tuple_pop 1
  "data.pkl: objects nested deeper than 1000 (limit)" 450 ${predict})
nsa_hostile_model_case(ModelPickleNestedTupleMemo model_nested_tuple_memo 1
  "data.pkl: objects nested deeper than 1000 (limit)" 450 ${predict})
nsa_hostile_model_case(ModelIsAStateDict model_state_dict 1 "not a LibTorch archive" 600 ${predict})

# --- PyTorch state dicts (the toolkit's pickle reader; NSAFuzzReplay --check state_dict loads
# them into the brain-mri-2d network: 2D, width 0.25, one channel) ---------------------------
set(state NSAFuzzReplay --check state_dict @INPUT@)
nsa_hostile_model_case(StateDictAccepted sd_good 0 "" 600 ${state})
nsa_hostile_model_case(StateDictConv1Kernel6x7 sd_conv6x7 1
  "tensor 'conv1.weight' has shape [16, 1, 6, 7], the network expects [16, 1, 7, 7]" 600 ${state})
nsa_hostile_model_case(StateDictMissingTensor sd_missing 1 "tensor 'nin.0.weight' is missing" 600 ${state})
nsa_hostile_model_case(StateDictExtraTensor sd_extra 1 "unexpected tensor 'extra.weight'" 600 ${state})
nsa_hostile_model_case(StateDictStorageOffsetOutside sd_offset 1
  "storage offset 1000000, and itemsize 4 requiring a storage size of 4003136 are out of bounds for storage of size 3136"
  600 ${state})
nsa_hostile_model_case(StateDictStorageShort sd_short_storage 1 "holds 4 bytes, fewer than the 784 elements" 600 ${state})
nsa_hostile_model_case(StateDictCrc sd_crc 1 "CRC-32 is" 600 ${state})
nsa_hostile_model_case(StateDictNestedTuplePop sd_nested_tuple_pop 1 "nested deeper than 1000 (limit)" 400 ${state})
nsa_hostile_model_case(StateDictNestedTupleMemo sd_nested_tuple_memo 1 "nested deeper than 1000 (limit)" 400 ${state})
nsa_hostile_model_case(StateDict5MillionLists sd_empty_lists 1 "more than 500000 objects (limit)" 400 ${state})

# --- JSON parameters (NSASynthesize --parameters) and presets (NSATrain --preset) ------------
set(synthesize NSASynthesize @IMAGE@ @OUT@/image.mha @OUT@/label.mha --parameters @INPUT@)
nsa_hostile_model_case(ParametersNested100000 json_deep 1 "json_deep.json': JSON nested deeper than 256 levels" 300 ${synthesize})
nsa_hostile_model_case(ParametersDuplicateKey json_duplicate 1
  "json_duplicate.json': key 'num_patches' appears twice in one object" 300 ${synthesize})
nsa_hostile_model_case(ParametersHugeString json_huge_string 1 "is not one of" 600 ${synthesize})
nsa_hostile_model_case(ParametersNumberOutOfRange json_out_of_range 1
  "json_out_of_range.json': a number at key 'min_object' is out of the range of a double" 300 ${synthesize})
set(train NSATrain @OUT@/model.pt --images @IMAGE@ --preset @INPUT@)
nsa_hostile_model_case(PresetNested100000 json_preset_deep 1 "JSON nested deeper than 256 levels at key 'epochs'" 600 ${train})
nsa_hostile_model_case(PresetDuplicateKey json_preset_duplicate 1 "key 'training' appears twice" 600 ${train})

# --- Partial evaluation results (NSAEvaluate --merge) ----------------------------------------
set(merge NSAEvaluate --merge @INPUT@ --output @OUT@ --thumbnails 0)
nsa_hostile_model_case(ShardsMergeAccepted shards_good 0 "" 300 ${merge})
nsa_hostile_model_case(ShardsHeaderLength3GiB shards_header_3gib 1 "header length 3221225472 exceeds the" 150 ${merge})
nsa_hostile_model_case(ShardsCount2147483647 shards_count_2147483647 1 "'shards' is 2147483647, above the limit 100000" 150 ${merge})
nsa_hostile_model_case(ShardsNegativeCount shards_negative 1 "'shards' is -5, not a non-negative integer" 150 ${merge})
nsa_hostile_model_case(ShardsHalfAsWhole shards_half_as_whole 1
  "holds 2 cases, but shard 0 of a 4-case manifest split into 1 has 4" 150 ${merge})
nsa_hostile_model_case(ShardsNegativeIndex shards_negative_index 1 "'index' is -1, not a non-negative integer" 150 ${merge})
nsa_hostile_model_case(ShardsCountsOverflow shards_overflow 1 "score table counts overflow" 150 ${merge})
nsa_hostile_model_case(ShardsEntries2Pow31 shards_entries_2_31 1 "claims 2147483648 score table entries" 150 ${merge})
nsa_hostile_model_case(ShardsOfAnotherRun shards_other_run 1 "(not the same run)" 150 ${merge})
nsa_hostile_model_case(ShardsMissing shards_missing 1 "missing shard(s) 1/2" 150 ${merge})
