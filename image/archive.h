/* Image archives: `docker save` / `docker load`.  Two formats move images
 * between machines: the docker-archive (manifest.json, one <id>/layer.tar
 * per layer, the config as <hex>.json, repositories) that `docker save`
 * writes, and the OCI image layout (oci-layout, index.json, blobs/sha256/)
 * as a tar.  Loading accepts both, whole-archive gzip or zstd, and layers
 * that are plain tar, gzip or zstd; saving writes either. */
#ifndef BERTH_IMAGE_ARCHIVE_H
#define BERTH_IMAGE_ARCHIVE_H

#include <stddef.h>

#include "image/image.h"
#include "lib/berr.h"

/* Largest manifest.json, index.json, repositories or manifest accepted. */
#define IMAGE_ARCHIVE_JSON_MAX (4 * 1024 * 1024)

/* Largest archive `docker load` accepts, as for import. */
#define IMAGE_ARCHIVE_MAX IMAGE_IMPORT_MAX

/* Media types of the manifests and blobs both formats name. */
#define IMAGE_MEDIA_OCI_INDEX	      "application/vnd.oci.image.index.v1+json"
#define IMAGE_MEDIA_OCI_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MEDIA_OCI_CONFIG	      "application/vnd.oci.image.config.v1+json"
#define IMAGE_MEDIA_OCI_LAYER	      "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MEDIA_OCI_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGE_MEDIA_OCI_LAYER_ZSTD    "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMAGE_MEDIA_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MEDIA_DOCKER_LIST	      "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MEDIA_DOCKER_CONFIG     "application/vnd.docker.container.image.v1+json"
#define IMAGE_MEDIA_DOCKER_LAYER      "application/vnd.docker.image.rootfs.diff.tar"
#define IMAGE_MEDIA_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

enum image_archive_format {
	IMAGE_ARCHIVE_DOCKER, /* docker-archive, what `docker save` writes */
	IMAGE_ARCHIVE_OCI,    /* an OCI image layout in a tar (oci-archive) */
};

/* What a load did, in the order of the archive's manifest: one line per
 * image as `docker load` prints them, "Loaded image: busybox:latest" for
 * each tag, "Loaded image ID: sha256:..." for an image without one. */
struct image_load_result {
	char **lines; /* NULL-terminated, owned; NULL when nothing was loaded */
};
void image_load_result_clear(struct image_load_result *res);

/* `docker load`: reads an archive from FD (borrowed, read to its end).
 * Every file of the archive is streamed into the blob store (layer.tar and
 * OCI blobs checked against the digests that name them), then the manifests
 * are read, layers that the store lacks are unpacked in parallel (each
 * unpack checks the layer's DiffID against the config), and each image is
 * recorded with its tags in one transaction, a tag that pointed at another
 * image moving as in `docker load`.  Nothing half done is ever visible: on
 * any failure the store is exactly as before (no new blob, layer, image or
 * reference), and what a killed load left is removed by the next
 * image_store_open().  Sets BERR_INVALID for a malformed or truncated
 * archive, a digest mismatch, a manifest naming a missing file, an unsafe
 * layer entry (the message names what is wrong), BERR_INTERNAL
 * otherwise. */
int image_load(struct image_store *st, int fd, struct image_load_result *res, struct berr **err);

/* `docker save NAME...`: writes the N images NAMES names (ids, id prefixes
 * or references; one image may be named twice) to FD (borrowed) as one
 * archive of FORMAT.  A repository alone ("busybox") stands for all its
 * tags, as in Docker.  A name that is a reference becomes a tag in the
 * archive (RepoTags, or org.opencontainers.image.ref.name in index.json);
 * an image named by id carries no tag.  Layers go uncompressed into a
 * docker-archive (layer.tar, whose digest is the DiffID) and as stored into
 * an OCI layout.  Everything is checked before the first byte is written;
 * a failure while writing leaves a truncated archive in FD.  Sets
 * BERR_NOT_FOUND "No such image: NAME", BERR_INVALID for N == 0,
 * BERR_INTERNAL otherwise. */
int image_save(struct image_store *st, const char *const *names, size_t n,
	       enum image_archive_format format, int fd, struct berr **err);

#endif
