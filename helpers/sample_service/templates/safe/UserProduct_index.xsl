<?xml version="1.0" encoding="UTF-8"?>
<!-- HTML/UserProduct_index.xsl: renders the product metadata's identity as HTML (written as is
     by safe_metadata.render). -->
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">
  <xsl:template match="/">
    <html>
      <body>
        <h1>
          <xsl:value-of select="//PRODUCT_URI" />
        </h1>
        <table>
          <tr>
            <td>PRODUCT_TYPE</td>
            <td>
              <xsl:value-of select="//PRODUCT_TYPE" />
            </td>
          </tr>
          <tr>
            <td>PROCESSING_BASELINE</td>
            <td>
              <xsl:value-of select="//PROCESSING_BASELINE" />
            </td>
          </tr>
          <tr>
            <td>GENERATION_TIME</td>
            <td>
              <xsl:value-of select="//GENERATION_TIME" />
            </td>
          </tr>
          <tr>
            <td>SPACECRAFT_NAME</td>
            <td>
              <xsl:value-of select="//SPACECRAFT_NAME" />
            </td>
          </tr>
        </table>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
