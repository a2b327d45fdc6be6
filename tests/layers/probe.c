/*  probe: one include, chosen by the build (PROBE_HEADER), compiled with one layer's include
    directories. tests/layers/check.sh builds it for allowed and forbidden pairs: the layers
    hold only while every forbidden include fails to compile and every allowed one builds. */
#include PROBE_HEADER

int layer_probe (void);

int
layer_probe (void)
{
    return 0;
}
