# numerics_case.sh: sourced by tools/make_goldens.sh and
# tests/e2e/numerics.sh; reading the manifest the same way in both.
#
# manifest_cases MANIFEST [NAME...]: prints "NAME MODEL SEED INPUT RANGE"
# lines (RANGE filled in as -1:1 when absent), all cases or those named.
manifest_cases() {
    local manifest=$1; shift
    grep -v '^[[:space:]]*\(#\|$\)' "$manifest" |
    while read -r name model seed input range; do
        local line="$name $model $seed $input ${range:--1:1}"
        if [ $# -eq 0 ]; then echo "$line"; continue; fi
        for want in "$@"; do
            if [ "$want" = "$name" ]; then echo "$line"; fi
        done
    done
}

# case_source ROOT MODEL INPUT DEST: copies the model to DEST, with its
# first `input NAME[...]` line set to INPUT (HxWxC) unless INPUT is "-".
case_source() {
    local root=$1 model=$2 input=$3 dest=$4
    if [ "$input" = - ]; then
        cp "$root/$model" "$dest"
    else
        local dims
        dims=$(echo "$input" | sed 's/x/, /g')
        sed "0,/^input /s/^input \([A-Za-z_][A-Za-z0-9_]*\)\[[^]]*\]/input \1[$dims]/" \
            "$root/$model" >"$dest"
    fi
}

# case_files DIR NAME KIND: the case's committed files of KIND (in or out),
# in order: NAME.KIND0.npy NAME.KIND1.npy ...
case_files() {
    local i=0
    while [ -f "$1/$2.$3$i.npy" ]; do
        printf '%s\n' "$1/$2.$3$i.npy"
        i=$((i + 1))
    done
}
