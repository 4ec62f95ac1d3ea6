/* rnimg.h: images in, for the programs around a model: `rnc --run` and the
 * main() of `rnc --main`. A PNG or JPEG file is decoded (stb_image), made
 * the input's channels (RGB, or grey by ITU-R 601 luma), resized to the
 * input's height and width as Pillow's Image.resize(size, BILINEAR) does,
 * and normalized: x = (sample * scale - mean) / std, sample in [0, 1].
 * docs/images.md gives each rule and why.
 *
 * Built into librnimg.a, apart from librnrt.a: a program that takes no
 * image links no decoder. Errors are -1 with a message naming the file in
 * err; nothing is allocated for a file that is refused. */
#ifndef RNIMG_H
#define RNIMG_H

#include "rnrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checked from the file's header before anything is decoded. */
enum { RN_IMG_MAX_SIDE = 16384 };
#define RN_IMG_MAX_BYTES ((size_t)256 << 20) /* decoded samples, and the file */

/* torchvision's ToTensor then Normalize, with a scale between them. */
typedef struct rn_img_norm {
    float scale;     /* 1: samples stay in [0, 1]; 255 gives [0, 255] */
    int nmean, nstd; /* values given: 0 (mean 0, std 1), 1 (every
                        channel) or one per channel */
    float mean[3], std[3];
} rn_img_norm;

void rn_img_norm_init(rn_img_norm *n); /* scale 1, no mean, no std */
/* Takes "--scale S", "--mean A[,B,C]" or "--std A[,B,C]" (finite numbers;
 * a std not 0): 1 when flag is one of those, 0 when it is not, -1 with a
 * message for a bad value. */
int rn_img_norm_flag(rn_img_norm *n, const char *flag, const char *value,
                     char *err, size_t errlen);

/* 1 when the file starts as a PNG or a JPEG does, or, when it starts as
 * neither a .npy nor an image (or cannot be read), when its name ends in
 * .png, .jpg or .jpeg (any case): read it with rn_img_read then, so that a
 * damaged image gets the decoder's message. 0 otherwise. */
int rn_img_sniff(const char *path);

/* Reads an image as an input of shape [h, w, c], c 3 (RGB) or 1 (grey):
 * out gets a [h, w, c] float32 array (free it with rn_array_free). */
int rn_img_read(const char *path, int h, int w, int c, const rn_img_norm *n,
                rn_array *out, char *err, size_t errlen);
/* The same from bytes in memory, refusing images whose decoded samples
 * take more than max_bytes (capped to RN_IMG_MAX_BYTES); name is for the
 * messages. */
int rn_img_decode(const unsigned char *data, size_t len, size_t max_bytes,
                  const char *name, int h, int w, int c,
                  const rn_img_norm *n, rn_array *out, char *err,
                  size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
